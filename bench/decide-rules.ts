/** @module The 1,000 rules of bench:decide: a deterministic mix of every condition shape. */
import type { RuleInput } from '../streams/rules'

const CATEGORIES = ['Fashion', 'Shoes', 'Home', 'Garden', 'Electronics', 'Toys', 'Sports', 'Beauty']
const TRIGGERS = [
  'ProductViewed',
  'ProductViewed',
  'ClickedProduct',
  'ClickedProduct',
  'AddedToCart',
  'PageViewed',
  'OrderCompleted',
  'SearchPerformed',
] as const

/** Rule i of a deterministic mix of shapes; thresholds such that a few pass. */
export function benchRule(i: number): RuleInput {
  const category = CATEGORIES[i % CATEGORIES.length] as string
  const trigger = TRIGGERS[i % TRIGGERS.length] as (typeof TRIGGERS)[number]
  const shapes = [
    {
      kind: 'count',
      event: 'ProductViewed',
      where: [{ field: 'category', op: 'eq', value: category }],
      within: '30m',
      op: 'gte',
      value: 3 + (i % 5),
    },
    { kind: 'profile', fact: 'engagement', op: 'gte', value: 20 + (i % 80) },
    { kind: 'profile', fact: 'interest', category, op: 'gt', value: 5 + (i % 20) },
    { kind: 'page', op: 'startsWith', value: `/p/${i % 10}` },
    { kind: 'event', field: 'price', op: 'gt', value: 50 + (i % 400) },
    { kind: 'time', hours: { from: i % 24, to: (i + 8) % 24 } },
    {
      kind: 'not',
      condition: { kind: 'count', event: 'OrderCompleted', within: 'today', op: 'gte', value: 1 },
    },
  ] as const
  const pick = (n: number) => shapes[(i + n * 3) % shapes.length]
  return {
    name: `Bench rule ${i}`,
    priority: i % 50,
    trigger: { event: trigger },
    conditions:
      i % 3 === 0
        ? { kind: 'all', conditions: [pick(0), pick(1)] as never }
        : i % 3 === 1
          ? {
              kind: 'any',
              conditions: [pick(0), { kind: 'all', conditions: [pick(1), pick(2)] }] as never,
            }
          : { kind: 'all', conditions: [pick(0), pick(1), pick(2)] as never },
    offer: {
      title: `Offer ${i}`,
      body: 'Bench offer',
      cta: { label: 'Go', url: 'https://shop.example/' },
      ...(i % 10 === 0 && { recommendations: { source: 'trending', count: 3 } }),
    },
    caps: {
      perShopper: { count: 1, period: '1d' },
      cooldown: '10m',
      ...(i % 7 === 0 && { budget: 100 }),
    },
    holdoutPercent: i % 4 === 0 ? 10 : 0,
  }
}
