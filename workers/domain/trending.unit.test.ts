import { describe, expect, it } from 'vitest'
import type { StoredEvent } from '../../streams/events'
import { TRENDING_HALF_LIFE_MS, trendingScoreAt } from '../../streams/recommendations'
import { epochScore, TRENDING, trendingUpdates } from './trending'

const T0 = Date.UTC(2026, 10, 1)
const H = TRENDING_HALF_LIFE_MS

function event(type: string, props: Record<string, unknown>, ts = T0, receivedAt = ts) {
  return {
    id: `e-${type}-${ts}`,
    type,
    v: 1,
    anonymousId: 'a',
    ts,
    receivedAt,
    siteId: 's',
    verified: false,
    props,
  } as StoredEvent
}

describe('trendingUpdates', () => {
  it('adds each item interaction to the site-wide set and to its category', () => {
    const updates = trendingUpdates([
      event('ProductViewed', { productId: 'p1', category: 'Shoes' }),
      event('AddedToCart', { productId: 'p2' }),
      event('OrderCompleted', {
        orderId: 'o',
        products: [
          { productId: 'p1', category: 'Shoes' },
          { productId: 'p3', category: 'Bags' },
        ],
      }),
      event('PageViewed', {}),
    ])
    // p1's view and order (same time) are one increment.
    expect(updates.get(undefined)?.map((u) => [u.item, u.weight])).toEqual([
      ['p1', 6],
      ['p2', 3],
      ['p3', 5],
    ])
    expect(updates.get('Shoes')?.map((u) => [u.item, u.weight])).toEqual([['p1', 6]])
    expect(updates.get('Bags')?.map((u) => u.item)).toEqual(['p3'])
    expect([...updates.keys()]).toHaveLength(3)
  })

  it('merges an item met at several times into one increment worth the same at any time', () => {
    const times = [T0 + 3 * H, T0, T0 + H / 2]
    const [merged, ...rest] =
      trendingUpdates(times.map((ts) => event('ProductViewed', { productId: 'p' }, ts))).get(
        undefined,
      ) ?? []
    expect(rest).toEqual([])
    expect(merged?.t).toBe(T0 + 3 * H)
    const epoch = T0 - H
    const separate = times.reduce((sum, ts) => sum + epochScore(1, ts, epoch), 0)
    expect(epochScore(merged?.weight ?? 0, merged?.t ?? 0, epoch)).toBeCloseTo(separate, 9)
  })

  it('never dates an interaction after the time the api received it', () => {
    const [increment] =
      trendingUpdates([event('ProductViewed', { productId: 'p' }, T0 + H, T0)]).get(undefined) ?? []
    expect(increment?.t).toBe(T0)
  })
})

describe('epoch scores', () => {
  it('rank as the decayed sums do, and read back as decayed weight at any time', () => {
    const epoch = T0
    // Old but many vs. recent but few: 4 views two days ago < 2 views now.
    const old = 4 * epochScore(1, T0, epoch)
    const fresh = 2 * epochScore(1, T0 + 2 * H, epoch)
    expect(fresh).toBeGreaterThan(old)
    expect(trendingScoreAt(old, epoch, T0 + 2 * H)).toBeCloseTo(1, 9)
    expect(trendingScoreAt(fresh, epoch, T0 + 2 * H)).toBeCloseTo(2, 9)
  })

  it('stay far from overflow until the set is rebased', () => {
    const largest = epochScore(5, T0 + TRENDING.rebaseAfterMs, T0)
    expect(largest).toBeLessThan(1e7)
  })
})
