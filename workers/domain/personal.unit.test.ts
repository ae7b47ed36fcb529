import { describe, expect, it } from 'vitest'
import type { Interaction } from './co-occurrence'
import { PERSONAL, type PersonalInput, personalRecs, personalSources } from './personal'

const MIN = 60_000
const T0 = Date.UTC(2026, 10, 1)
const view = (item: string, ts: number): Interaction => ({ item, kind: 'view', ts })

/** The inputs, an own item's re-visit weight its recency unless `own` says otherwise. */
function input(overrides: Partial<PersonalInput>): PersonalInput {
  return {
    items: [],
    own: overrides.items ?? [],
    categories: [],
    bought: new Set(),
    neighbours: new Map(),
    trending: new Map(),
    global: [],
    ...overrides,
  }
}

describe('personalSources', () => {
  it('weights recent items by recency and kind, the strongest at 1', () => {
    const sources = personalSources(
      [view('old', T0 - 300 * MIN), view('a', T0 - MIN), { item: 'b', kind: 'cart', ts: T0 }],
      {},
    )
    expect(sources.items.map(([item]) => item)).toEqual(['b', 'a', 'old'])
    expect(sources.items[0]?.[1]).toBe(1)
    expect(sources.items[2]?.[1]).toBeLessThan(sources.items[1]?.[1] ?? 0)
  })

  it("sums an item's interactions for its re-visit weight: often comes before once", () => {
    // 'often' viewed 3 times, then 'once' glanced at last: 0.8 + 0.64 + 0.512 against 1
    // (seconds apart, so the time factor is about 1).
    const history = [
      view('often', T0 - 3000),
      view('often', T0 - 2000),
      view('often', T0 - 1000),
      view('once', T0),
    ]
    const sources = personalSources(history, {})
    expect(sources.own.map(([item]) => item)).toEqual(['often', 'once'])
    expect(sources.own[1]).toEqual(['once', 1])
    expect(sources.own[0]?.[1]).toBeCloseTo(0.8 + 0.64 + 0.512, 2)
    // Neighbours still weigh by recency: the newest item is the strongest source.
    expect(sources.items.map(([item]) => item)).toEqual(['once', 'often'])
    // And the list leads with the item the shopper keeps coming back to.
    const recs = personalRecs(input(sources))
    expect(recs.map(([item]) => item)).toEqual(['often', 'once'])
  })

  it('ranks items seen once each by recency alone, a cart counting double', () => {
    const sources = personalSources(
      [view('c', T0 - 2 * MIN), { item: 'b', kind: 'cart', ts: T0 - MIN }, view('a', T0)],
      {},
    )
    expect(sources.own.map(([item]) => item)).toEqual(['b', 'a', 'c'])
    expect(sources.own.map(([, w]) => w)).toEqual(sources.items.map(([, w]) => w))
  })

  it('keeps at most sourceItems distinct items and the top categories with their shares', () => {
    const history = Array.from({ length: 30 }, (_, i) => view(`p${i % 15}`, T0 + i * MIN))
    const sources = personalSources(history, { Shoes: 3, Bags: 1, Hats: 0.5, Toys: 0.1 })
    expect(sources.items).toHaveLength(PERSONAL.sourceItems)
    expect(sources.categories.map(([c]) => c)).toEqual(['Shoes', 'Bags', 'Hats'])
    expect(sources.categories.reduce((s, [, share]) => s + share, 0)).toBeCloseTo(1, 9)
  })
})

describe('personalRecs', () => {
  it('answers site-wide trending for a shopper with no history (cold start)', () => {
    const recs = personalRecs(
      input({
        global: [
          ['t1', 8],
          ['t2', 4],
        ],
      }),
    )
    expect(recs).toEqual([
      ['t1', 1],
      ['t2', 0.5],
    ])
  })

  it('ranks a niche neighbour above a merely popular one (cosine, not raw count)', () => {
    // Stored scores already carry 1/√n_neighbour: the popular item co-occurred more but with
    // everyone, so its stored score is lower.
    const recs = personalRecs(
      input({
        items: [['a', 1]],
        neighbours: new Map([
          [
            'a',
            {
              n: 4,
              list: [
                ['popular', 6 / Math.sqrt(100)],
                ['niche', 2 / Math.sqrt(2)],
              ],
            },
          ],
        ]),
      }),
    )
    expect(recs.map(([item]) => item)).toEqual(['a', 'niche', 'popular'])
  })

  it('puts the items the shopper just looked at first, newest first, then their neighbours', () => {
    const recs = personalRecs(
      input({
        items: [
          ['new', 1],
          ['older', 0.8],
        ],
        neighbours: new Map([['new', { n: 1, list: [['n1', 0.9]] }]]),
        global: [['g1', 100]],
      }),
    )
    expect(recs.map(([item]) => item)).toEqual(['new', 'older', 'n1', 'g1'])
    expect(recs[0]?.[1]).toBe(PERSONAL.weights.revisit)
  })

  it('scores an own item by its recency alone: co-views and trending do not reorder them', () => {
    // `older` is a strong neighbour of `new` and tops its category: neither lifts it.
    const recs = personalRecs(
      input({
        items: [
          ['new', 1],
          ['older', 0.5],
        ],
        categories: [['Shoes', 1]],
        neighbours: new Map([['new', { n: 1, list: [['older', 1.5]] }]]),
        trending: new Map([['Shoes', [['older', 10]]]]),
        global: [['older', 10]],
      }),
    )
    expect(recs).toEqual([
      ['new', PERSONAL.weights.revisit],
      ['older', PERSONAL.weights.revisit * 0.5],
    ])
  })

  it('lets a strong neighbour of the newest item pass an old own item', () => {
    const recs = personalRecs(
      input({
        items: [
          ['new', 1],
          ['old', 0.3],
        ],
        neighbours: new Map([['new', { n: 1, list: [['n1', 0.9]] }]]),
      }),
    )
    expect(recs.map(([item]) => item)).toEqual(['new', 'n1', 'old'])
  })

  it('never recommends what the shopper bought, not even as a re-visit, but uses it as a source', () => {
    const recs = personalRecs(
      input({
        items: [
          ['x', 1],
          ['a', 0.5],
        ],
        bought: new Set(['x']),
        neighbours: new Map([
          ['x', { n: 1, list: [['c', 0.9]] }],
          ['a', { n: 1, list: [['x', 1]] }],
        ]),
      }),
    )
    expect(recs.map(([item]) => item)).toEqual(['a', 'c'])
  })

  it('blends trending items of the top categories by their share', () => {
    const recs = personalRecs(
      input({
        categories: [
          ['Shoes', 0.75],
          ['Bags', 0.25],
        ],
        trending: new Map([
          ['Shoes', [['s1', 10]]],
          ['Bags', [['b1', 50]]],
        ]),
        global: [['g1', 100]],
      }),
    )
    expect(recs.map(([item]) => item)).toEqual(['s1', 'b1', 'g1'])
    expect(recs[0]?.[1]).toBeCloseTo(PERSONAL.weights.trending * 0.75, 9)
  })

  it('lists at most limit items', () => {
    const global = Array.from({ length: 300 }, (_, i): [string, number] => [`g${i}`, 300 - i])
    expect(personalRecs(input({ global }))).toHaveLength(PERSONAL.limit)
  })
})
