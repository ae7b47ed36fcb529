import { describe, expect, it } from 'vitest'
import { createKeys } from '../../streams/keys'
import { testRedis } from '../../test/redis'
import { backfillShoppers } from './backfill-shoppers'

describe('backfill of the active-shoppers index', () => {
  it('indexes every profile by its latest event, once', async () => {
    const { redis, prefix } = await testRedis()
    const keys = createKeys(prefix)
    await redis.hset(keys.profile('sit_a:a:one'), 'last', 1000, 'n', 1)
    await redis.hset(keys.profile('sit_a:u:two'), 'last', 3000, 'n', 2)
    await redis.hset(keys.profile('sit_b:a:three'), 'last', 2000, 'n', 1)
    // Companion keys and a newer index entry the workers wrote meanwhile.
    await redis.zadd(keys.profileRecent('sit_a:a:one'), 1, '{}')
    await redis.zadd(keys.siteShoppers('sit_a'), 5000, 'sit_a:a:one')

    expect(await backfillShoppers({ redis, keys, count: 2 })).toEqual({ added: 3 })
    // ZADD GT: the workers' newer score stays.
    expect(await redis.zrange(keys.siteShoppers('sit_a'), 0, -1, 'WITHSCORES')).toEqual([
      'sit_a:u:two',
      '3000',
      'sit_a:a:one',
      '5000',
    ])
    expect(await redis.zrange(keys.siteShoppers('sit_b'), 0, -1)).toEqual(['sit_b:a:three'])

    await redis.hset(keys.profile('sit_b:a:four'), 'last', 4000)
    expect(await backfillShoppers({ redis, keys })).toEqual({ skipped: true })
    expect(await redis.zcard(keys.siteShoppers('sit_b'))).toBe(1)
  })
})
