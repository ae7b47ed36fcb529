/** The condition table: each kind of fact and operator, passing and failing, with its words. */
import { describe, expect, it } from 'vitest'
import type { StoredEvent } from './events'
import { localTime } from './local-time'
import type { RecentEvent } from './profile'
import { compare, compileConditions, type Facts, globMatcher, tester } from './rule-conditions'
import { type Condition, condition, type Operator } from './rules'

const T = Date.UTC(2026, 10, 27, 14, 30) // a Friday, 14:30 UTC
const MIN = 60_000

function facts(over: Partial<Facts> = {}): Facts {
  const event = {
    id: 'e1',
    type: 'ProductViewed',
    v: 1,
    ts: T,
    receivedAt: T,
    siteId: 'sit_1',
    verified: false,
    anonymousId: 'a',
    context: { url: 'https://shop.example/products/boots-1?ref=x' },
    props: { productId: 'boots-1', category: 'Shoes', price: 250, name: 'Boots' },
  } as StoredEvent
  const recent: RecentEvent[] = [
    { id: 'r1', type: 'ClickedProduct', ts: T - 20 * MIN, category: 'Shoes', item: 's1' },
    { id: 'r2', type: 'ClickedProduct', ts: T - 8 * MIN, category: 'Shoes', item: 's2' },
    { id: 'r3', type: 'ClickedProduct', ts: T - 5 * MIN, category: 'shoes', item: 's3' },
    { id: 'r4', type: 'ClickedProduct', ts: T - 2 * MIN, category: 'Hats', item: 'h1' },
    { id: 'r5', type: 'ProductViewed', ts: T - 3 * 60 * MIN, price: 300, item: 'tv' },
    { id: 'e1', type: 'ProductViewed', ts: T, price: 250, item: 'boots-1' },
  ]
  return {
    event,
    profile: {
      engagement: 62.5,
      purchases: 2,
      counts: { n: 40, 'n:ProductViewed': 30 },
      first: T - 3 * 86_400_000,
      last: T - 2 * MIN,
      interest: (category) => ({ shoes: 12, hats: 1 })[category.toLowerCase()] ?? 0,
    },
    recent,
    timezone: 'UTC',
    ...over,
  }
}

const cases: [string, unknown, boolean, string][] = [
  [
    'event number gt',
    { kind: 'event', field: 'price', op: 'gt', value: 200 },
    true,
    'event price is more than 200 (was 250)',
  ],
  ['event number lte', { kind: 'event', field: 'price', op: 'lte', value: 200 }, false, 'was 250'],
  [
    'event text eq ignores case',
    { kind: 'event', field: 'category', op: 'eq', value: 'shoes' },
    true,
    'event category is "shoes"',
  ],
  [
    'event number equals its text',
    { kind: 'event', field: 'price', op: 'eq', value: '250' },
    true,
    'was 250',
  ],
  [
    'event in list',
    { kind: 'event', field: 'productId', op: 'in', value: ['x', 'BOOTS-1'] },
    true,
    'is one of',
  ],
  ['event missing field', { kind: 'event', field: 'coupon', op: 'exists' }, false, 'was nothing'],
  ['event ne on missing', { kind: 'event', field: 'coupon', op: 'ne', value: 'X' }, true, 'is not'],
  [
    'number op on text',
    { kind: 'event', field: 'category', op: 'gt', value: 3 },
    false,
    'more than 3',
  ],
  [
    'engagement gte',
    { kind: 'profile', fact: 'engagement', op: 'gte', value: 50 },
    true,
    'engagement is at least 50 (was 62.5)',
  ],
  ['purchases', { kind: 'profile', fact: 'purchases', op: 'eq', value: 0 }, false, 'was 2'],
  [
    'events of a type',
    { kind: 'profile', fact: 'events', eventType: 'ProductViewed', op: 'gte', value: 30 },
    true,
    'of ProductViewed',
  ],
  [
    'interest',
    { kind: 'profile', fact: 'interest', category: 'SHOES', op: 'gt', value: 10 },
    true,
    'interest in SHOES',
  ],
  [
    'interest unknown category',
    { kind: 'profile', fact: 'interest', category: 'tv', op: 'gt', value: 0 },
    false,
    'was 0',
  ],
  [
    'returning',
    { kind: 'profile', fact: 'returning', op: 'eq', value: true },
    true,
    'returning is true',
  ],
  [
    'days since first seen',
    { kind: 'profile', fact: 'daysSinceFirstSeen', op: 'gte', value: 3 },
    true,
    'was 3',
  ],
  [
    'minutes since last seen',
    { kind: 'profile', fact: 'minutesSinceLastSeen', op: 'lt', value: 5 },
    true,
    'was 2',
  ],
  [
    'count in window with filter',
    {
      kind: 'count',
      event: 'ClickedProduct',
      where: [{ field: 'category', op: 'eq', value: 'shoes' }],
      within: '10m',
      op: 'gte',
      value: 2,
    },
    true,
    'ClickedProduct events where category is "shoes" in the last 10m is at least 2 (was 2)',
  ],
  [
    'count window excludes older',
    {
      kind: 'count',
      event: 'ClickedProduct',
      where: [{ field: 'category', op: 'eq', value: 'shoes' }],
      within: '10m',
      op: 'gte',
      value: 3,
    },
    false,
    'was 2',
  ],
  [
    'count today',
    {
      kind: 'count',
      event: 'ProductViewed',
      where: [{ field: 'price', op: 'gt', value: 200 }],
      within: 'today',
      op: 'gte',
      value: 2,
    },
    true,
    'today',
  ],
  [
    'count ignores later events',
    { kind: 'count', event: 'ProductViewed', within: '1h', op: 'eq', value: 1 },
    true,
    'was 1',
  ],
  [
    'page startsWith path',
    { kind: 'page', op: 'startsWith', value: '/products/' },
    true,
    'page starts with "/products/"',
  ],
  [
    'page eq ignores query',
    { kind: 'page', op: 'eq', value: '/products/boots-1' },
    true,
    'was "/products/boots-1"',
  ],
  ['page glob', { kind: 'page', op: 'matches', value: '/products/*-1' }, true, 'matches'],
  ['page glob fails', { kind: 'page', op: 'matches', value: '/cart/*' }, false, 'matches'],
  ['time hours', { kind: 'time', hours: { from: 9, to: 17 } }, true, 'fri 14:00'],
  ['time weekend', { kind: 'time', days: ['sat', 'sun'] }, false, 'on sat, sun'],
  [
    'time wraps midnight',
    { kind: 'time', hours: { from: 22, to: 6 } },
    false,
    'between 22:00 and 6:00',
  ],
  [
    'all',
    {
      kind: 'all',
      conditions: [
        { kind: 'page', op: 'contains', value: 'boots' },
        { kind: 'event', field: 'price', op: 'gt', value: 1 },
      ],
    },
    true,
    '✓ page contains',
  ],
  [
    'any',
    {
      kind: 'any',
      conditions: [
        { kind: 'page', op: 'contains', value: 'hats' },
        { kind: 'event', field: 'price', op: 'gt', value: 1 },
      ],
    },
    true,
    '✗ page contains "hats"',
  ],
  ['empty any', { kind: 'any', conditions: [] }, true, ''],
  [
    'not',
    {
      kind: 'not',
      condition: { kind: 'count', event: 'OrderCompleted', within: 'today', op: 'gte', value: 1 },
    },
    true,
    'none of',
  ],
]

describe('conditions', () => {
  it.each(cases)('%s', (_, raw, expected, words) => {
    const c = condition.parse(raw) as Condition
    const compiled = compileConditions(c)
    const f = facts()
    expect(compiled.predicate(f)).toBe(expected)
    const explained = compiled.explain(f)
    expect(explained.passed).toBe(expected)
    expect(explained.lines.join('\n')).toContain(words)
  })

  it('reads the time in the site’s time zone', () => {
    const c = condition.parse({ kind: 'time', hours: { from: 9, to: 17 } })
    // 14:30 UTC is 23:30 in Tokyo.
    expect(compileConditions(c).predicate(facts({ timezone: 'Asia/Tokyo' }))).toBe(false)
    expect(localTime(T, 'America/New_York')).toMatchObject({ hour: 9, day: 'fri' })
    // 23:30 in Tokyo: its midnight was 15:00 UTC the day before.
    expect(localTime(T, 'Asia/Tokyo').midnight).toBe(Date.UTC(2026, 10, 26, 15, 0))
  })

  it('counts "today" from midnight in the site’s time zone', () => {
    const c = condition.parse({
      kind: 'count',
      event: 'ProductViewed',
      within: 'today',
      op: 'eq',
      value: 2,
    })
    const recent: RecentEvent[] = [
      { id: 'early', type: 'ProductViewed', ts: T - 5 * 60 * MIN },
      { id: 'e1', type: 'ProductViewed', ts: T },
    ]
    // 09:30 and 14:30 UTC: both today.
    expect(compileConditions(c).predicate(facts({ recent }))).toBe(true)
    // In Honolulu (UTC-10) the first view was 23:30 yesterday, the event 04:30 today.
    expect(compileConditions(c).predicate(facts({ recent, timezone: 'Pacific/Honolulu' }))).toBe(
      false,
    )
  })
})

describe('tester', () => {
  const values: unknown[] = [
    undefined,
    null,
    '',
    'Shoes',
    'shoes',
    'hats',
    0,
    3,
    '3',
    200,
    '250',
    ' ',
    250,
    true,
    false,
  ]
  const expectations: [Operator, unknown][] = [
    ['eq', 'SHOES'],
    ['eq', 3],
    ['eq', '3'],
    ['eq', true],
    ['ne', 'shoes'],
    ['ne', 3],
    ['gt', 200],
    ['gte', 200],
    ['lt', 3],
    ['lte', 3],
    ['in', ['hats', 3]],
    ['contains', 'HOE'],
    ['startsWith', 'sh'],
    ['exists', undefined],
  ]
  it.each(expectations)('agrees with compare for %s %j', (op, expected) => {
    const test = tester(op, expected)
    for (const actual of values) {
      expect(test(actual), `${JSON.stringify(actual)} ${op} ${JSON.stringify(expected)}`).toBe(
        compare(actual, op, expected),
      )
    }
  })
})

describe('localTime', () => {
  it('agrees with Intl across zones, half-hour offsets and a DST change', () => {
    const zones = [
      'UTC',
      'Europe/Berlin',
      'America/New_York',
      'Asia/Kolkata',
      'Australia/Lord_Howe',
      'Pacific/Honolulu',
    ]
    // Every 37 minutes over 10 days around the EU's switch to summer time (2026-03-29).
    for (let ts = Date.UTC(2026, 2, 24); ts < Date.UTC(2026, 3, 3); ts += 37 * 60_000) {
      for (const timeZone of zones) {
        const parts = Object.fromEntries(
          new Intl.DateTimeFormat('en-GB', {
            timeZone,
            hourCycle: 'h23',
            weekday: 'short',
            hour: '2-digit',
          })
            .formatToParts(ts)
            .map((p) => [p.type, p.value]),
        )
        const got = localTime(ts, timeZone)
        expect([got.hour, got.day], `${timeZone} ${new Date(ts).toISOString()}`).toEqual([
          Number(parts.hour),
          String(parts.weekday).slice(0, 3).toLowerCase(),
        ])
      }
    }
  })
})

describe('globMatcher', () => {
  it.each([
    ['/products/*', '/products/boots', true],
    ['/products/*', '/products/', true],
    ['/products/*', '/product', false],
    ['*/reviews', '/p/1/reviews', true],
    ['/p/*/r/*', '/p/1/r/2', true],
    ['/p/*/r/*', '/p/1/x/2', false],
    ['/a*a', '/a', false],
    ['/a*a', '/aa', true],
    ['/Products/*', '/products/x', true],
    ['/exact', '/exact', true],
    ['/exact', '/exact/more', false],
  ])('%s on %s is %s', (pattern, text, expected) => {
    expect(globMatcher(pattern)(text.toLowerCase())).toBe(expected)
  })

  it('answers a many-star pattern on a long shopper path at once (no backtracking)', () => {
    // A regular expression of the same pattern takes minutes on this input.
    const path = `/${'-'.repeat(2_000)}`
    expect(globMatcher('/*-*-*-*-*-*x')(path)).toBe(false)
  })
})
