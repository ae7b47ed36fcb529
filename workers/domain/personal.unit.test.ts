import { describe, expect, it } from 'vitest'
import type { Interaction } from './co-occurrence'
import { PERSONAL, type PersonalInput, personalRecs, personalSources } from './personal'

const MIN = 60_000
const T0 = Date.UTC(2026, 10, 1)
const view = (item: string, ts: number): Interaction => ({ item, kind: 'view', ts })

function input(overrides: Partial<PersonalInput>): PersonalInput {
  return {
    items: [],
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
                ['niche', 2 / Math.sqrt(2)],
                ['popular', 6 / Math.sqrt(100)],
              ],
            },
          ],
        ]),
      }),
    )
    expect(recs.map(([item]) => item).slice(0, 2)).toEqual(['niche', 'a'])
    expect(recs.at(-1)?.[0]).toBe('popular')
  })

  it('never recommends what the shopper bought, and down-weights what they just viewed', () => {
    const recs = personalRecs(
      input({
        items: [
          ['a', 1],
          ['b', 0.5],
        ],
        bought: new Set(['x']),
        neighbours: new Map([
          [
            'a',
            {
              n: 1,
              list: [
                ['x', 1],
                ['c', 0.9],
              ],
            },
          ],
        ]),
      }),
    )
    const items = recs.map(([item]) => item)
    expect(items).not.toContain('x')
    expect(items).toEqual(['c', 'a', 'b'])
    expect(recs.find(([item]) => item === 'a')?.[1]).toBe(PERSONAL.weights.revisit)
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
