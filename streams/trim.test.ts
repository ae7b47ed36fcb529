import { describe, expect, it } from 'vitest'
import { testRedis } from '../test/redis'
import type { StoredEvent } from './events'
import { createKeys } from './keys'
import { appendEvents, prepareEvent } from './produce'
import { compareIds, trimPartition } from './trim'

const DAY = 86_400_000
const now = Date.UTC(2026, 10, 27)

describe('trimming the event log', () => {
  it('orders stream ids numerically', () => {
    expect(compareIds('10-0', '9-5')).toBeGreaterThan(0)
    expect(compareIds('5-2', '5-10')).toBeLessThan(0)
  })

  it('never drops entries a group still has pending or has not yet been given', async () => {
    const { redis, prefix } = await testRedis()
    const keys = createKeys(prefix)
    const stream = keys.events(0)
    // 300 entries 10 days old (over 7-day retention), then a group that read only 100 of them.
    for (let i = 0; i < 300; i++) {
      await redis.xadd(stream, `${now - 10 * DAY + i}-0`, 'e', '{}')
    }
    await redis.xgroup('CREATE', stream, 'pipeline', '0')
    const read = (await redis.xreadgroup(
      'GROUP',
      'pipeline',
      'c1',
      'COUNT',
      100,
      'STREAMS',
      stream,
      '>',
    )) as [string, [string, string[]][]][]
    const firstBatch = read[0]?.[1] ?? []
    // Ack all but the 51st: entries from there on are still needed.
    const keep = firstBatch[50]?.[0] ?? ''
    await redis.xack(
      stream,
      'pipeline',
      ...firstBatch.filter(([id]) => id !== keep).map(([id]) => id),
    )

    const result = await trimPartition(redis, keys, 0, 7 * DAY, now)
    expect(result.floor).toBe(keep)
    const oldest = (await redis.xrange(stream, '-', '+', 'COUNT', 1))[0]?.[0] ?? ''
    expect(compareIds(oldest, keep)).toBeLessThanOrEqual(0)
    expect(await redis.xrange(stream, keep, keep)).toHaveLength(1)

    // An append uses the same floor: the pending entry survives a time-based trim at append.
    const event: StoredEvent = {
      id: 'new-1',
      type: 'UserLoggedOut',
      v: 1,
      anonymousId: 'a',
      ts: now,
      receivedAt: now,
      siteId: 'sit_1',
      verified: false,
      props: {},
    }
    const prepared = { ...prepareEvent(event, 1), partition: 0 }
    await appendEvents(
      redis,
      { keys, partitions: 1, retentionMs: 7 * DAY, dedupWindowMs: DAY },
      [prepared],
      now,
    )
    expect(await redis.xrange(stream, keep, keep)).toHaveLength(1)

    // Once everything is acknowledged the old entries go.
    await redis.xack(stream, 'pipeline', keep)
    await redis.xreadgroup('GROUP', 'pipeline', 'c1', 'COUNT', 1000, 'STREAMS', stream, '>')
    const pending = (await redis.xpending(stream, 'pipeline', '-', '+', 1000)) as [string][]
    if (pending.length > 0) {
      await redis.xack(stream, 'pipeline', ...pending.map(([id]) => id))
    }
    await trimPartition(redis, keys, 0, 7 * DAY, now)
    expect(await redis.xlen(stream)).toBeLessThan(120)
  })
})
