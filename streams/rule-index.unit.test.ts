/**
 * The candidate index against the conditions' own predicates: a leaf the index files agrees
 * with its predicate on awkward values, and over random rules and facts a rule the index
 * skips never passes (while most are skipped, so the index does its work).
 */
import { describe, expect, it } from 'vitest'
import { seededChoices } from '../test/fixtures/otto-traffic'
import type { StoredEvent } from './events'
import type { RecentEvent } from './profile'
import { compileConditions, type Facts, type SlotRegistry } from './rule-conditions'
import { createCandidateIndex, guardsOf } from './rule-index'
import { type Condition, condition, PROFILE_FACTS } from './rules'

const MIN = 60_000
const T = Date.UTC(2026, 10, 27, 14, 30)

/** Values a fact can take, including the awkward ones a comparison must get right. */
const VALUES: unknown[] = [
  undefined,
  null,
  '',
  ' ',
  0,
  -0,
  3,
  49.99,
  250,
  '250',
  ' 250 ',
  '2.5e2',
  'abc',
  'Shoes',
  'SHOES',
  'shoes',
  'İstanbul',
  true,
  false,
  'true',
  Number.NaN,
  Number.POSITIVE_INFINITY,
  {},
  ['shoes'],
]
const CONDITION_VALUES = [0, 3, 49.99, 250, -1, '250', 'shoes', 'SHOES', 'abc', 'i̇', '', true]
const URLS = [
  undefined,
  'https://shop.example/p/12?x=1',
  'https://shop.example/P/1',
  'https://shop.example/products/boots-1',
  'https://shop.example/checkout/thanks',
  'https://shop.example/İstanbul/x',
  '/p/3',
  'not a url',
  'https://shop.example/',
]
const PATHS = ['/p/1', '/p/12', '/P/', '/products/', '/checkout/thanks', '/', '/i̇stanbul', '/p']
const CATEGORIES = ['Shoes', 'shoes', 'Hats', 'Home', 'SHOES']
const ZONES = ['UTC', 'Europe/Berlin', 'Asia/Tokyo', 'Pacific/Honolulu', 'Asia/Kolkata']

function randomLeaf(r: ReturnType<typeof seededChoices>): unknown {
  const ops = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'contains', 'startsWith', 'exists']
  const comparison = () => {
    const op = r.pick(ops)
    if (op === 'exists') {
      return { op }
    }
    if (op === 'in') {
      return { op, value: [r.pick(CONDITION_VALUES), r.pick(CONDITION_VALUES)] }
    }
    if (op === 'gt' || op === 'gte' || op === 'lt' || op === 'lte') {
      return { op, value: r.pick([0, 1, 3, 49.99, 100, 250, 251, -5]) }
    }
    return { op, value: r.pick(CONDITION_VALUES) }
  }
  switch (r.int(5)) {
    case 0:
      return {
        kind: 'event',
        field: r.pick(['price', 'category', 'productId', 'x', 'products.0.price']),
        ...comparison(),
      }
    case 1: {
      const fact = r.pick(PROFILE_FACTS)
      if (fact === 'returning') {
        return { kind: 'profile', fact, op: r.pick(['eq', 'ne']), value: r.pick([true, false]) }
      }
      return {
        kind: 'profile',
        fact,
        ...(fact === 'interest' && { category: r.pick(CATEGORIES) }),
        ...(fact === 'events' && r.next() < 0.5 && { eventType: 'ProductViewed' }),
        ...comparison(),
      }
    }
    case 2:
      return {
        kind: 'count',
        event: r.pick(['ClickedProduct', 'ProductViewed', 'OrderCompleted']),
        where: r.next() < 0.5 ? [{ field: 'category', op: 'eq', value: r.pick(CATEGORIES) }] : [],
        within: r.pick(['10m', '1h', 'today', '30d']),
        op: r.pick(['eq', 'ne', 'gt', 'gte', 'lt', 'lte']),
        value: r.int(4),
      }
    case 3:
      return {
        kind: 'page',
        op: r.pick(['eq', 'startsWith', 'contains', 'matches']),
        value: r.pick(PATHS),
      }
    default:
      return {
        kind: 'time',
        ...(r.next() < 0.8 && { hours: { from: r.int(24), to: r.int(25) } }),
        days: r.next() < 0.5 ? [r.pick(['mon', 'fri', 'sat']), r.pick(['sun', 'tue'])] : undefined,
      }
  }
}

function randomCondition(r: ReturnType<typeof seededChoices>, depth = 0): unknown {
  const roll = r.next()
  if (depth >= 3 || roll < 0.45) {
    return randomLeaf(r)
  }
  if (roll < 0.55) {
    return { kind: 'not', condition: randomCondition(r, depth + 1) }
  }
  const n = r.int(4)
  return {
    kind: roll < 0.8 ? 'all' : 'any',
    conditions: Array.from({ length: n }, () => randomCondition(r, depth + 1)),
  }
}

/** Leaves that fail validation (a time with hours from 9 to 3 is fine; from > 24 is not). */
function parsed(raw: unknown): Condition | undefined {
  const result = condition.safeParse(raw)
  return result.success ? result.data : undefined
}

function randomFacts(r: ReturnType<typeof seededChoices>): Facts {
  const ts = T + r.int(7 * 24) * 60 * MIN + r.int(60) * MIN
  const recent: RecentEvent[] = Array.from({ length: r.int(12) }, (_, i) => ({
    id: `r${i}`,
    type: r.pick(['ClickedProduct', 'ProductViewed', 'OrderCompleted']),
    ts: ts - r.int(48 * 60) * MIN,
    category: r.pick(CATEGORIES),
  }))
  const url = r.pick(URLS)
  const interests: Record<string, number> = { shoes: r.int(20), hats: r.next() * 3 }
  const first = r.next() < 0.8 ? ts - r.int(5 * 24 * 60) * MIN : undefined
  const last = r.next() < 0.8 ? ts - r.int(90) * MIN : undefined
  return {
    event: {
      id: 'e1',
      type: 'ProductViewed',
      v: 1,
      ts,
      receivedAt: ts,
      siteId: 'sit_1',
      verified: false,
      anonymousId: 'a',
      ...(url !== undefined && { context: { url } }),
      props: {
        price: r.pick(VALUES),
        category: r.pick(VALUES),
        productId: r.pick(VALUES),
        products: [{ price: r.pick(VALUES) }],
      },
    } as unknown as StoredEvent,
    profile: {
      engagement: r.pick([0, 3, 49.99, 250, 62.5]),
      purchases: r.int(4),
      counts: { n: r.int(300), 'n:ProductViewed': r.int(4) },
      ...(first !== undefined && { first }),
      ...(last !== undefined && { last }),
      interest: (category) => interests[category.toLowerCase()] ?? 0,
    },
    recent,
    timezone: r.pick(ZONES),
    memo: [],
  }
}

describe('candidate index', () => {
  it('agrees with each leaf it files, on awkward values', () => {
    const r = seededChoices(1)
    let filed = 0
    for (let i = 0; i < 400; i++) {
      const leaf = parsed(randomLeaf(r))
      if (!leaf) {
        continue
      }
      const { predicate, tree } = compileConditions(leaf)
      const index = createCandidateIndex([tree])
      filed += index.guarded
      for (let j = 0; j < 40; j++) {
        const f = randomFacts(r)
        const candidate = index.candidates(f).length === 1
        // A leaf with guards is looked up exactly; one without is a candidate on every event.
        expect(
          candidate,
          JSON.stringify({ leaf, props: f.event.props, url: f.event.context }),
        ).toBe(guardsOf(tree) ? predicate({ ...f, memo: [] }) : true)
      }
    }
    expect(filed).toBeGreaterThan(200)
  })

  it('never skips a rule that passes, over random rules and facts', () => {
    const r = seededChoices(2)
    const slots: SlotRegistry = new Map()
    const rules = Array.from({ length: 300 }, () => parsed(randomCondition(r)))
      .filter((c): c is Condition => c !== undefined)
      .map((c) => compileConditions(c, slots))
    const index = createCandidateIndex(rules.map((rule) => rule.tree))
    let passed = 0
    let skipped = 0
    for (let i = 0; i < 300; i++) {
      const f = randomFacts(r)
      const candidates = new Set(index.candidates(f))
      rules.forEach((rule, at) => {
        if (rule.predicate(f)) {
          passed++
          expect(
            candidates.has(at),
            JSON.stringify(rule.tree, (k, v) => (k === 'actual' || k === 'test' ? undefined : v)),
          ).toBe(true)
        } else if (!candidates.has(at)) {
          skipped++
        }
      })
    }
    expect(passed).toBeGreaterThan(1000)
    expect(skipped).toBeGreaterThan(10_000)
  })

  it('looks a rule up by the cheapest leaf it cannot pass without', () => {
    const leaf = (raw: unknown) => compileConditions(condition.parse(raw)).tree
    const guards = (raw: unknown) =>
      guardsOf(compileConditions(condition.parse(raw)).tree)?.leaves.map((g) => g.leaf.leaf.kind)
    const count = { kind: 'count', event: 'ProductViewed', within: '1h', op: 'gte', value: 2 }
    const page = { kind: 'page', op: 'startsWith', value: '/p/' }
    const price = { kind: 'event', field: 'price', op: 'gt', value: 100 }
    const notMet = { kind: 'not', condition: price }
    expect(guards({ kind: 'all', conditions: [count, price, page] })).toEqual(['page'])
    expect(
      guards({ kind: 'any', conditions: [count, { kind: 'all', conditions: [price] }] }),
    ).toEqual(['count', 'event'])
    // A `not`, an `any` with an item without guards, and empty groups guard nothing.
    expect(guards(notMet)).toBeUndefined()
    expect(guards({ kind: 'any', conditions: [price, notMet] })).toBeUndefined()
    expect(guards({ kind: 'any', conditions: [] })).toBeUndefined()
    expect(guards({ kind: 'all', conditions: [] })).toBeUndefined()
    expect(guards({ kind: 'all', conditions: [notMet, price] })).toEqual(['event'])
    expect(guardsOf(leaf({ kind: 'page', op: 'matches', value: '/p/*' }))).toBeUndefined()
  })

  it('skips a rule whose leaf can never pass, and evaluates the ones the caller keeps', () => {
    const slots: SlotRegistry = new Map()
    const never = compileConditions(
      condition.parse({ kind: 'event', field: 'price', op: 'gt', value: 1e9 }),
      slots,
    )
    const index = createCandidateIndex([never.tree, undefined, never.tree])
    const f = randomFacts(seededChoices(3))
    f.event = { ...f.event, props: { price: 250 } } as StoredEvent
    expect(index.candidates(f)).toEqual([1])
    expect(index.guarded).toBe(2)
  })
})
