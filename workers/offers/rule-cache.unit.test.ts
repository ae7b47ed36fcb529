/**
 * The rule index on bench:decide's mix of 1,000 rules: the candidate index never skips a rule
 * that passes, skips most that do not, and never skips a rule whose schedule or audience could
 * refuse it first (its trace would say so, not "conditions not met").
 */
import { describe, expect, it } from 'vitest'
import { benchRule } from '../../bench/decide-rules'
import type { StoredEvent } from '../../streams/events'
import type { RecentEvent } from '../../streams/profile'
import type { Facts } from '../../streams/rule-conditions'
import { ruleInput } from '../../streams/rules'
import { seededChoices } from '../../test/fixtures/otto-traffic'
import { indexRules } from './rule-cache'

const MIN = 60_000
const T = Date.UTC(2026, 10, 27, 14, 30)
const CATEGORIES = ['Fashion', 'Shoes', 'Home', 'Garden', 'Electronics', 'Toys', 'Books']
const TYPES = ['ProductViewed', 'ClickedProduct', 'AddedToCart', 'PageViewed', 'OrderCompleted']

/** A shopper's event as the OTTO traffic of the bench makes them, with a live profile. */
function shopperFacts(r: ReturnType<typeof seededChoices>, type: string): Facts {
  const ts = T + r.int(7 * 24 * 60) * MIN
  const aid = r.int(2_000_000)
  const category = CATEGORIES[aid % CATEGORIES.length] as string
  const recent: RecentEvent[] = Array.from({ length: r.int(50) }, (_, i) => ({
    id: `r${i}`,
    type: r.next() < 0.6 ? 'ProductViewed' : r.next() < 0.9 ? 'ClickedProduct' : 'OrderCompleted',
    ts: ts - r.int(24 * 60) * MIN,
    category: CATEGORIES[r.int(CATEGORIES.length)] as string,
  }))
  const interests = new Map(CATEGORIES.map((c) => [c.toLowerCase(), r.next() * 30]))
  return {
    event: {
      id: 'e1',
      type,
      v: 1,
      ts,
      receivedAt: ts,
      siteId: 'sit_1',
      verified: false,
      anonymousId: 'a',
      context: { url: `https://shop.example/${r.next() < 0.9 ? `p/${aid}` : 'checkout/thanks'}` },
      props: { productId: String(aid), category, price: 5 + r.int(20_000) / 100 },
    } as unknown as StoredEvent,
    profile: {
      engagement: r.next() * 120,
      purchases: r.int(3),
      counts: { n: r.int(200) },
      first: ts - r.int(10 * 24 * 60) * MIN,
      last: ts - r.int(60) * MIN,
      interest: (c) => interests.get(c.toLowerCase()) ?? 0,
    },
    recent,
    timezone: 'Europe/Berlin',
    memo: [],
  }
}

describe('rule index', () => {
  it('skips only rules that fail, and most of those, on the bench mix', () => {
    const loaded = Array.from({ length: 1000 }, (_, i) => {
      const spec = ruleInput.parse(benchRule(i))
      return {
        ...spec,
        // A few rules with a schedule or a partial audience: never skipped.
        ...(i % 97 === 0 && { schedule: { end: '2099-01-01T00:00:00Z' } }),
        ...(i % 89 === 0 && { audiencePercent: 50 }),
        id: `rul_${i}`,
        siteId: 'sit_1',
        version: 1,
        status: 'active' as const,
        timezone: 'Europe/Berlin',
      }
    })
    const site = indexRules(loaded).get('sit_1')
    const r = seededChoices(11)
    let rules = 0
    let passed = 0
    let skipped = 0
    for (let i = 0; i < 2000; i++) {
      const type = TYPES[i % TYPES.length] as string
      const list = site?.immediate.get(type as never)
      if (!list) {
        throw new Error(`no rules for ${type}`)
      }
      const facts = shopperFacts(r, type)
      const candidates = new Set(list.index.candidates(facts))
      list.rules.forEach((rule, at) => {
        rules++
        const gated =
          rule.startsAt !== -Infinity || rule.endsAt !== Infinity || rule.audiencePercent < 100
        if (gated) {
          expect(candidates.has(at)).toBe(true)
        }
        if (rule.predicate(facts)) {
          passed++
          expect(candidates.has(at), rule.id).toBe(true)
        } else if (!candidates.has(at)) {
          skipped++
        }
      })
    }
    expect(passed).toBeGreaterThan(0)
    // Without the index every rule would be evaluated on every event.
    expect(skipped / rules).toBeGreaterThan(0.5)
  })
})
