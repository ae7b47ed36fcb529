/**
 * @module The demo store's offer rules, stored active with the demo site on the first
 * `nudge start`, so a newcomer sees an offer within seconds of browsing /demo. They are
 * ordinary rules (streams/rules.ts): edit or pause them like any other.
 */
import type { RuleInput } from '../../streams/rules'

/**
 * @example demoRules('http://localhost:3000').map((spec) => ruleInput.parse(spec))
 */
export function demoRules(base: string): RuleInput[] {
  const store = `${base.replace(/\/+$/, '')}/demo`
  return [
    {
      name: 'Demo: shoe browser gets 10% off',
      priority: 200,
      trigger: { event: 'ClickedProduct' },
      conditions: {
        kind: 'count',
        event: 'ClickedProduct',
        where: [{ field: 'category', op: 'eq', value: 'shoes' }],
        within: '10m',
        op: 'gte',
        value: 3,
      },
      offer: {
        title: '10% off shoes',
        body: 'You seem to like shoes. Use the code at checkout today.',
        cta: { label: 'Shop shoes', url: store },
        code: 'SHOES10',
      },
      caps: { perShopper: { count: 1, period: '1d' } },
    },
    {
      name: 'Demo: busy browser gets free shipping',
      priority: 100,
      trigger: { event: 'ClickedProduct' },
      conditions: { kind: 'count', event: 'ClickedProduct', within: '10m', op: 'gte', value: 5 },
      offer: {
        title: 'Free shipping today',
        body: 'Found something you like? Shipping is on us until midnight.',
        cta: { label: 'Keep shopping', url: store },
        code: 'SHIPFREE',
      },
      caps: { perShopper: { count: 1, period: '1d' } },
    },
    {
      name: 'Demo: picks on login',
      priority: 150,
      trigger: { event: 'UserLoggedIn' },
      offer: {
        title: 'Welcome!',
        body: 'Picked for you from what shoppers like you look at.',
        cta: { label: 'See the store', url: store },
        recommendations: { source: 'personal', count: 3 },
      },
      caps: { perShopper: { count: 1, period: '1d' } },
    },
  ]
}
