import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { testOffer } from '../test/live'
import { TEST_REDIS_URL, testRedis } from '../test/redis'
import { deliverOffer, markAcked, readInbox } from './inbox'
import { createKeys } from './keys'
import { INBOX } from './offers'

describe('inbox', () => {
  it('delivers atomically: capped inbox, TTL, and the same JSON published on the live channel', async () => {
    const { redis, prefix } = await testRedis()
    const keys = createKeys(prefix)
    const profile = 'sit_1:a:a-1'
    const subscriber = new Redis(TEST_REDIS_URL)
    onTestFinished(() => subscriber.disconnect())
    const published: string[] = []
    subscriber.on('message', (_channel: string, message: string) => published.push(message))
    await subscriber.subscribe(keys.live(profile))

    const offers = Array.from({ length: INBOX.maxLength + 5 }, () => testOffer())
    for (const offer of offers) {
      await deliverOffer(redis, keys, profile, offer)
    }
    const { entries, invalid } = await readInbox(redis, keys, profile)
    expect(invalid).toBe(0)
    expect(entries.map((e) => e.offer.id)).toEqual(offers.slice(5).map((o) => o.id))
    const ttl = await redis.pttl(keys.inbox(profile))
    expect(ttl).toBeGreaterThan(INBOX.ttlMs - 5_000)
    await expect.poll(() => published.length).toBe(offers.length)
    expect(JSON.parse(published[0] ?? '{}')).toEqual(offers[0])

    await expect(
      deliverOffer(redis, keys, profile, {
        ...testOffer(),
        cta: { label: 'x', url: 'javascript:alert(1)' },
      }),
    ).rejects.toThrow(/http/)
  })

  it('flags acknowledged offers and skips entries that break the contract', async () => {
    const { redis, prefix } = await testRedis()
    const keys = createKeys(prefix)
    const profile = 'sit_1:u:u-1'
    const [a, b] = [testOffer(), testOffer()]
    await deliverOffer(redis, keys, profile, a)
    await redis.xadd(keys.inbox(profile), '*', INBOX.field, '{"not":"an offer"}')
    await deliverOffer(redis, keys, profile, b)
    await markAcked(redis, keys, profile, a.id)
    await markAcked(redis, keys, profile, a.id)
    const { entries, invalid } = await readInbox(redis, keys, profile)
    expect(invalid).toBe(1)
    expect(entries.map((e) => [e.offer.id, e.acked])).toEqual([
      [a.id, true],
      [b.id, false],
    ])
    expect(await redis.zcard(keys.inboxAcks(profile))).toBe(1)
    expect(await redis.pttl(keys.inboxAcks(profile))).toBeGreaterThan(0)
  })
})
