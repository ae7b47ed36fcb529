import { describe, expect, it } from 'vitest'
import { createKeys } from '../../streams/keys'
import { trendingEpochField } from '../../streams/recommendations'
import { testRedis } from '../../test/redis'
import { withScripts } from './load'

const T0 = Date.UTC(2026, 10, 1)
const HALF_LIFE = 3_600_000

/** One call of trending-sets.lua for site `s` with the given sets and a category limit. */
async function setup() {
  const { redis, prefix } = await testRedis()
  const keys = createKeys(prefix)
  const scripts = withScripts(redis)
  const add = (
    sets: [string | undefined, [string, number, number][]][],
    limits = { rebaseAfter: 20 * HALF_LIFE, maxCategories: 1_000 },
  ) => {
    const args: (string | number)[] = [
      HALF_LIFE,
      limits.rebaseAfter,
      500,
      100,
      limits.maxCategories,
      60_000,
    ]
    for (const [category, increments] of sets) {
      args.push(trendingEpochField(category), category ?? '', increments.length)
      for (const increment of increments) {
        args.push(...increment)
      }
    }
    return scripts.nudgeTrending(
      2 + sets.length,
      keys.recTrendingEpochs('s'),
      keys.recCategories('s'),
      ...sets.map(([category]) => keys.recTrending('s', category)),
      ...args,
    )
  }
  return { redis, keys, add }
}

describe('trending-sets.lua', () => {
  it('writes every set of a site in one call and records each category size', async () => {
    const t = await setup()
    const sizes = await t.add([
      [
        undefined,
        [
          ['p1', 1, T0],
          ['p2', 3, T0],
        ],
      ],
      ['Shoes', [['p1', 1, T0]]],
      ['Bags', [['p2', 3, T0]]],
    ])
    expect(sizes).toEqual([2, 1, 1])
    expect(await t.redis.hgetall(t.keys.recCategories('s'))).toEqual({ Shoes: '1', Bags: '1' })
    expect(await t.redis.zrevrange(t.keys.recTrending('s'), 0, -1)).toEqual(['p2', 'p1'])
    expect(await t.redis.pttl(t.keys.recTrending('s', 'Shoes'))).toBeGreaterThan(0)
  })

  it('refuses a new category past the site limit, within one call too, and leaves it unwritten', async () => {
    const t = await setup()
    const limits = { rebaseAfter: 20 * HALF_LIFE, maxCategories: 2 }
    expect(await t.add([['A', [['p', 1, T0]]]], limits)).toEqual([1])
    const sizes = await t.add(
      [
        [undefined, [['p', 1, T0]]],
        ['B', [['p', 1, T0]]],
        ['C', [['p', 1, T0]]],
        ['A', [['q', 1, T0]]],
      ],
      limits,
    )
    expect(sizes).toEqual([1, 1, -1, 2])
    expect(Object.keys(await t.redis.hgetall(t.keys.recCategories('s'))).sort()).toEqual(['A', 'B'])
    expect(await t.redis.exists(t.keys.recTrending('s', 'C'))).toBe(0)
  })

  it('rescales a set to a new epoch once an interaction is far past it, ranks unchanged', async () => {
    const t = await setup()
    const limits = { rebaseAfter: 4 * HALF_LIFE, maxCategories: 1_000 }
    await t.add(
      [
        [
          undefined,
          [
            ['old', 8, T0],
            ['older', 1, T0],
          ],
        ],
      ],
      limits,
    )
    await t.add([[undefined, [['new', 1, T0 + 5 * HALF_LIFE]]]], limits)
    const epoch = Number(await t.redis.hget(t.keys.recTrendingEpochs('s'), trendingEpochField()))
    expect(epoch).toBe(T0 + 5 * HALF_LIFE)
    const scores = await t.redis.zrevrange(t.keys.recTrending('s'), 0, -1, 'WITHSCORES')
    // 8 views five half-lives ago are worth 0.25 now; one view now is worth 1.
    expect(scores).toEqual(['new', '1', 'old', '0.25', 'older', '0.03125'])
  })
})
