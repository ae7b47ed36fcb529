import { describe, expect, it } from 'vitest'
import type { StoredEvent } from '../../streams/events'
import {
  CO_OCCURRENCE,
  fromRecent,
  type Interaction,
  interactionsOf,
  pairsFor,
} from './co-occurrence'

const MIN = 60_000
const T0 = Date.UTC(2026, 10, 1)

const view = (item: string, ts: number): Interaction => ({ item, kind: 'view', ts })
const cart = (item: string, ts: number): Interaction => ({ item, kind: 'cart', ts })

function weightOf(pairs: { a: string; b: string; weight: number }[], x: string, y: string) {
  const pair = pairs.find((p) => (p.a === x && p.b === y) || (p.a === y && p.b === x))
  return pair?.weight
}

describe('pairsFor', () => {
  it('pairs a view with earlier views, weighted by how close in time they were', () => {
    const pairs = pairsFor([view('a', T0), view('b', T0 + 30 * MIN)], [view('c', T0 + 60 * MIN)])
    expect(weightOf(pairs, 'c', 'b')).toBeCloseTo(0.5, 9)
    expect(weightOf(pairs, 'c', 'a')).toBeCloseTo(0.25, 9)
    expect(pairs).toHaveLength(2)
  })

  it('counts interactions out of order the same way (|Δt|)', () => {
    const pairs = pairsFor([view('a', T0 + 30 * MIN)], [view('b', T0)])
    expect(weightOf(pairs, 'a', 'b')).toBeCloseTo(0.5, 9)
  })

  it('ignores the item itself and anything more than three hours away', () => {
    const pairs = pairsFor(
      [view('a', T0 - MIN), view('b', T0 - 3 * 60 * MIN - 1), view('c', T0 - 3 * 60 * MIN)],
      [view('a', T0)],
    )
    expect(pairs.map((p) => p.b).sort()).toEqual(['c'])
  })

  it('weights co-carted over co-viewed, cart→order over both, and lines of one order most', () => {
    const order = (item: string): Interaction => ({ item, kind: 'order', ts: T0, order: 'o1' })
    expect(weightOf(pairsFor([view('a', T0)], [view('b', T0)]), 'a', 'b')).toBe(1)
    expect(weightOf(pairsFor([cart('a', T0)], [cart('b', T0)]), 'a', 'b')).toBe(3)
    expect(weightOf(pairsFor([cart('a', T0)], [order('b')]), 'a', 'b')).toBe(4)
    expect(weightOf(pairsFor([], [order('b'), order('c')]), 'b', 'c')).toBe(5)
    expect(weightOf(pairsFor([view('a', T0)], [cart('b', T0)]), 'a', 'b')).toBe(1)
  })

  it('takes the strongest interaction with a partner seen several times', () => {
    const pairs = pairsFor([view('a', T0), cart('a', T0 - 30 * MIN)], [cart('b', T0)])
    expect(weightOf(pairs, 'a', 'b')).toBeCloseTo(1.5, 9)
  })

  it('pairs each new interaction with at most maxPartners items, the closest in time', () => {
    const history = Array.from({ length: 25 }, (_, i) => view(`h${i}`, T0 - i * MIN))
    const pairs = pairsFor(history, [view('x', T0 + 1)])
    expect(pairs).toHaveLength(CO_OCCURRENCE.maxPartners)
    expect(pairs.map((p) => p.b)).toContain('h0')
    expect(pairs.map((p) => p.b)).not.toContain(`h${CO_OCCURRENCE.maxPartners}`)
  })
})

describe('interactionsOf', () => {
  const base = {
    id: 'e1',
    v: 1,
    anonymousId: 'a',
    ts: T0,
    receivedAt: T0,
    siteId: 's',
    verified: false,
  } as const

  it('makes one interaction per distinct order line, at most maxOrderLines', () => {
    const products = Array.from({ length: 15 }, (_, i) => ({ productId: `p${i % 12}` }))
    const event = {
      ...base,
      type: 'OrderCompleted',
      props: { orderId: 'o1', products },
    } as StoredEvent
    const lines = interactionsOf(event)
    expect(lines).toHaveLength(CO_OCCURRENCE.maxOrderLines)
    expect(new Set(lines.map((l) => l.item)).size).toBe(CO_OCCURRENCE.maxOrderLines)
    expect(lines.every((l) => l.kind === 'order' && l.order === 'o1')).toBe(true)
  })

  it('has nothing for events that are not about an item, nor for removals', () => {
    const page = { ...base, type: 'PageViewed', props: {} } as StoredEvent
    const removed = { ...base, type: 'RemovedFromCart', props: { productId: 'p' } } as StoredEvent
    expect(interactionsOf(page)).toEqual([])
    expect(interactionsOf(removed)).toEqual([])
  })

  it('reads stored recent entries as views and carts', () => {
    expect(fromRecent({ id: 'x', type: 'ClickedProduct', ts: T0, item: 'p' })).toEqual(
      view('p', T0),
    )
    expect(fromRecent({ id: 'x', type: 'AddedToCart', ts: T0, item: 'p' })?.kind).toBe('cart')
    expect(fromRecent({ id: 'x', type: 'PageViewed', ts: T0 })).toBeUndefined()
  })
})
