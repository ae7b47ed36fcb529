import { describe, expect, it } from 'vitest'
import { testRedis } from '../test/redis'
import type { StoredEvent } from './events'
import { createKeys } from './keys'
import { appendEvents, type EventLog, prepareEvent } from './produce'

const now = Date.UTC(2026, 10, 27, 12)

function event(id: string, anonymousId: string): StoredEvent {
  return {
    id,
    type: 'ProductViewed',
    v: 1,
    anonymousId,
    ts: now - 1000,
    receivedAt: now,
    siteId: 'sit_test',
    verified: false,
    props: { productId: 'p1' },
  }
}

function logFor(prefix: string): EventLog {
  return { keys: createKeys(prefix), partitions: 4, retentionMs: 60_000, dedupWindowMs: 3_600_000 }
}

describe('appendEvents', () => {
  it('writes one entry per partition whose fields are event ids and values the events', async () => {
    const { redis, prefix } = await testRedis()
    const log = logFor(prefix)
    const events = ['a', 'b', 'c', 'd', 'e', 'f'].map((who, i) =>
      prepareEvent(event(`e${i}`, who), log.partitions),
    )
    const result = await appendEvents(redis, log, events, now)
    expect(result).toEqual({ accepted: 6, duplicateIds: [] })

    const seen = new Map<string, number>()
    for (let p = 0; p < log.partitions; p++) {
      const entries = await redis.xrange(log.keys.events(p), '-', '+')
      expect(entries.length).toBeLessThanOrEqual(1)
      for (const [, fields] of entries) {
        for (let i = 0; i < fields.length; i += 2) {
          const parsed = JSON.parse(fields[i + 1] as string) as StoredEvent
          expect(parsed.id).toBe(fields[i])
          seen.set(parsed.id, p)
        }
      }
    }
    expect([...seen.keys()].sort()).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5'])
    for (const e of events) {
      expect(seen.get(e.id)).toBe(e.partition)
    }
  })

  it('skips ids seen before, in the same batch or an earlier one, and in the previous bucket', async () => {
    const { redis, prefix } = await testRedis()
    const log = logFor(prefix)
    const first = [prepareEvent(event('x1', 'a'), 4), prepareEvent(event('x1', 'a'), 4)]
    expect(await appendEvents(redis, log, first, now)).toEqual({
      accepted: 1,
      duplicateIds: ['x1'],
    })

    const later = now + log.dedupWindowMs // next bucket: still inside the window
    const second = [prepareEvent(event('x1', 'a'), 4), prepareEvent(event('x2', 'a'), 4)]
    expect(await appendEvents(redis, log, second, later)).toEqual({
      accepted: 1,
      duplicateIds: ['x1'],
    })
    const p = (first[0] as { partition: number }).partition
    expect(await redis.xlen(log.keys.events(p))).toBe(2)
  })

  it('trims entries older than the retention by MINID', async () => {
    const { redis, prefix } = await testRedis()
    const log = logFor(prefix)
    const stream = log.keys.events(0)
    // Fill with old entries directly, with ids far in the past, so MINID can drop them.
    for (let i = 0; i < 300; i++) {
      await redis.xadd(stream, `${now - 3_600_000 + i}-0`, 'old', '1')
    }
    const events: ReturnType<typeof prepareEvent>[] = []
    for (let i = 0; events.length < 1; i++) {
      const prepared = prepareEvent(event(`n${i}`, `who${i}`), log.partitions)
      if (prepared.partition === 0) {
        events.push(prepared)
      }
    }
    await appendEvents(redis, log, events, now)
    // MINID ~ trims whole macro nodes only, so some old entries may survive; most must go.
    expect(await redis.xlen(stream)).toBeLessThan(150)
  })
})
