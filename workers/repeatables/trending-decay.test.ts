import { describe, expect, it } from 'vitest'
import { createKeys } from '../../streams/keys'
import { TRENDING_HALF_LIFE_MS } from '../../streams/recommendations'
import { testRedis } from '../../test/redis'
import { decayTrending } from './trending-decay'

describe('trending decay', () => {
  it('decays idle sets to now, drops what faded, and leaves fresh sets alone', async () => {
    const { redis, prefix } = await testRedis()
    const keys = createKeys(prefix)
    const now = Date.UTC(2026, 10, 27)
    const old = now - 3 * TRENDING_HALF_LIFE_MS
    await redis.zadd(keys.recTrending('sit_a'), 8, 'hit', 1e-6, 'faded')
    await redis.zadd(keys.recTrending('sit_a', 'Shoes'), 4, 'boot')
    await redis.hset(keys.recTrendingEpochs('sit_a'), 'all', old, 'cat:Shoes', now - 1000)

    expect(await decayTrending({ redis, keys, now })).toEqual({ sets: 1, dropped: 1 })
    expect(await redis.zrange(keys.recTrending('sit_a'), 0, -1, 'WITHSCORES')).toEqual(['hit', '1'])
    expect(await redis.hget(keys.recTrendingEpochs('sit_a'), 'all')).toBe(String(now))
    expect(await redis.zscore(keys.recTrending('sit_a', 'Shoes'), 'boot')).toBe('4')
  })
})
