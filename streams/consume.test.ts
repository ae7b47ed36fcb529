import type { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createBlockingRedis, createRedis, waitReady } from '../runtime/redis'
import { TEST_REDIS_URL, testRedis } from '../test/redis'
import { type ConsumedEntry, type ConsumerOptions, createConsumer } from './consume'
import type { StoredEvent } from './events'
import { createKeys } from './keys'
import { appendEvents, type EventLog, prepareEvent } from './produce'
import { reclaimIdle } from './reclaim'

const now = Date.now()
const GROUP = 'pipeline'

function event(id: string): StoredEvent {
  return {
    id,
    type: 'ProductViewed',
    v: 1,
    anonymousId: `anon-${id}`,
    ts: now - 1000,
    receivedAt: now,
    siteId: 'sit_test',
    verified: false,
    props: { productId: `p-${id}` },
  }
}

/** One partition, so every appended event lands in `events:{0}`. */
function logFor(prefix: string): EventLog {
  return { keys: createKeys(prefix), partitions: 1, retentionMs: 3_600_000, dedupWindowMs: 60_000 }
}

/** Appends one request's events (one entry) with the real producer; returns the entry id. */
async function appendEntry(redis: Redis, log: EventLog, ids: string[]): Promise<string> {
  const result = await appendEvents(
    redis,
    log,
    ids.map((id) => prepareEvent(event(id), log.partitions)),
    Date.now(),
  )
  expect(result.accepted).toBe(ids.length)
  const [last] = await redis.xrevrange(log.keys.events(0), '+', '-', 'COUNT', 1)
  return (last as [string, string[]])[0]
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 8000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`)
    }
    await sleep(20)
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A promise the test resolves; it resolves itself after 5 s so a failing test cannot hang. */
function openLater() {
  let release = () => {}
  const gate = new Promise<void>((resolve) => {
    release = resolve
    setTimeout(resolve, 5000)
  })
  return { gate, release }
}

type Call = { ids: string[]; ok: boolean }

/** Starts a consumer on real connections of its own; stopped and closed when the test ends. */
async function startConsumer(
  stream: string,
  handler: ConsumerOptions['handler'],
  opts: Partial<ConsumerOptions> = {},
) {
  const redis = createRedis(TEST_REDIS_URL, { commandTimeoutMs: 2000 })
  const blocking = createBlockingRedis(TEST_REDIS_URL)
  await waitReady(redis, 2000)
  const calls: Call[] = []
  /** The `retry` flag of each call, and each acknowledgement reported, in order. */
  const retries: boolean[] = []
  const acked: string[][] = []
  const consumer = createConsumer({
    redis,
    blocking,
    stream,
    group: GROUP,
    consumer: 'c1',
    blockMs: 200,
    retryDelayMs: 20,
    ...opts,
    handler: async (entries, info) => {
      const call: Call = { ids: entries.map((e) => e.streamId), ok: false }
      calls.push(call)
      retries.push(info.retry)
      await handler(entries, info)
      call.ok = true
    },
    acked: (ids) => acked.push(ids),
  })
  const running = consumer.run()
  onTestFinished(async () => {
    await consumer.stop()
    redis.disconnect()
    blocking.disconnect()
  })
  return { consumer, running, calls, retries, acked }
}

async function pendingCount(redis: Redis, stream: string): Promise<number> {
  const summary = (await redis.xpending(stream, GROUP)) as [number, ...unknown[]]
  return Number(summary[0])
}

async function deadLetters(redis: Redis, stream: string) {
  return redis.xrange(createKeys('').deadLetter(stream), '-', '+')
}

describe('createConsumer', { timeout: 15_000 }, () => {
  it('hands the producer’s entries over in send order and acks them', async () => {
    const { redis, prefix } = await testRedis()
    const log = logFor(prefix)
    const stream = log.keys.events(0)
    const sent = [['a1', 'a2'], ['b1', 'b2', 'b3'], ['c1']]
    const entryIds: string[] = []
    for (const ids of sent) {
      entryIds.push(await appendEntry(redis, log, ids))
    }
    const received: ConsumedEntry[] = []
    const { consumer, calls } = await startConsumer(stream, async (entries) => {
      received.push(...entries)
    })
    await waitFor('three entries', async () => received.length === 3)
    await consumer.stop()

    expect(received.map((e) => e.streamId)).toEqual(entryIds)
    expect(received.map((e) => e.events)).toEqual(sent.map((ids) => ids.map(event)))
    expect(calls).toEqual([{ ids: entryIds, ok: true }])
    expect(await pendingCount(redis, stream)).toBe(0)
    expect(await deadLetters(redis, stream)).toEqual([])
  })

  it('acks an entry only after the handler resolved for it', async () => {
    const { redis, prefix } = await testRedis()
    const log = logFor(prefix)
    const stream = log.keys.events(0)
    const entryId = await appendEntry(redis, log, ['x1'])
    const { gate, release } = openLater()
    const { calls } = await startConsumer(stream, () => gate)
    await waitFor('the handler call', async () => calls.length === 1)
    await sleep(300)

    const pending = (await redis.xpending(stream, GROUP, '-', '+', 10)) as unknown[][]
    expect(pending.map((row) => [row[0], row[1]])).toEqual([[entryId, 'c1']])
    release()
    await waitFor('the ack', async () => (await pendingCount(redis, stream)) === 0)
    expect(calls).toEqual([{ ids: [entryId], ok: true }])
  })

  it('retries a failed batch one entry at a time and acks each on success', async () => {
    const { redis, prefix } = await testRedis()
    const log = logFor(prefix)
    const stream = log.keys.events(0)
    const first = await appendEntry(redis, log, ['r1'])
    const second = await appendEntry(redis, log, ['r2', 'r3'])
    let failures = 0
    const { calls, retries, acked } = await startConsumer(stream, async () => {
      if (failures++ === 0) {
        throw new Error('queue briefly unavailable')
      }
    })
    await waitFor('both retries', async () => calls.filter((c) => c.ok).length === 2)
    await waitFor('the acks', async () => (await pendingCount(redis, stream)) === 0)

    expect(calls).toEqual([
      { ids: [first, second], ok: false },
      { ids: [first], ok: true },
      { ids: [second], ok: true },
    ])
    // The handler is told which calls are retries; only acknowledged entries are reported.
    expect(retries).toEqual([false, true, true])
    expect(acked).toEqual([[first], [second]])
    expect(await deadLetters(redis, stream)).toEqual([])
  })

  it('isolates a poison entry: neighbours succeed, it is dead-lettered after maxAttempts', async () => {
    const { redis, prefix } = await testRedis()
    const log = logFor(prefix)
    const stream = log.keys.events(0)
    const before = await appendEntry(redis, log, ['n1'])
    const poison = await appendEntry(redis, log, ['poison', 'n2'])
    const after = await appendEntry(redis, log, ['n3'])
    const { calls } = await startConsumer(
      stream,
      async (entries) => {
        if (entries.some((e) => e.events.some((ev) => ev.id === 'poison'))) {
          throw new Error('cannot enqueue poison')
        }
      },
      { maxAttempts: 3 },
    )
    await waitFor('the dead letter', async () => (await deadLetters(redis, stream)).length === 1)
    await waitFor('the acks', async () => (await pendingCount(redis, stream)) === 0)

    const succeeded = calls.filter((c) => c.ok).flatMap((c) => c.ids)
    expect(succeeded.sort()).toEqual([before, after].sort())
    // Delivery 1 is the shared batch; deliveries 2 and 3 are the poison entry alone.
    expect(calls.filter((c) => c.ids.includes(poison))).toEqual([
      { ids: [before, poison, after], ok: false },
      { ids: [poison], ok: false },
      { ids: [poison], ok: false },
    ])
    const [[, original]] = (await redis.xrange(stream, poison, poison)) as [[string, string[]]]
    const [[, fields]] = (await deadLetters(redis, stream)) as [[string, string[]]]
    expect(fields.slice(0, 6)).toEqual(['source', stream, 'entryId', poison, 'attempts', '3'])
    expect(fields[6]).toBe('reason')
    expect(fields[7]).toContain('cannot enqueue poison')
    expect(fields.slice(8)).toEqual(original)
    expect(original.length).toBe(4)
  })

  it('dead-letters an entry that does not parse at once, without calling the handler', async () => {
    const { redis, prefix } = await testRedis()
    const log = logFor(prefix)
    const stream = log.keys.events(0)
    const notJson = await redis.xadd(stream, '*', 'j1', '{not json')
    const badSchema = await redis.xadd(
      stream,
      '*',
      's1',
      JSON.stringify({ ...event('s1'), ts: 'x' }),
    )
    const good = await appendEntry(redis, log, ['g1'])
    const { calls } = await startConsumer(stream, async () => {})
    await waitFor('two dead letters', async () => (await deadLetters(redis, stream)).length === 2)
    await waitFor('the acks', async () => (await pendingCount(redis, stream)) === 0)

    expect(calls).toEqual([{ ids: [good], ok: true }])
    const dead = (await deadLetters(redis, stream)).map(([, fields]) => fields)
    expect(dead.map((f) => [f[3], f[5]])).toEqual([
      [notJson, '1'],
      [badSchema, '1'],
    ])
    expect(dead[0]?.[7]).toMatch(/j1: not JSON/)
    expect(dead[1]?.[7]).toMatch(/s1: ts: /)
  })

  it('dead-letters every entry of a call whose error says retry: false, at once', async () => {
    const { redis, prefix } = await testRedis()
    const log = logFor(prefix)
    const stream = log.keys.events(0)
    const first = await appendEntry(redis, log, ['u1'])
    const second = await appendEntry(redis, log, ['u2'])
    const { calls } = await startConsumer(stream, async () => {
      throw Object.assign(new Error('site was deleted'), { retry: false })
    })
    await waitFor('two dead letters', async () => (await deadLetters(redis, stream)).length === 2)
    await sleep(200) // 10 retry delays: a retry would have happened by now

    expect(calls).toEqual([{ ids: [first, second], ok: false }])
    const dead = (await deadLetters(redis, stream)).map(([, fields]) => fields.slice(2, 8))
    expect(dead).toEqual([
      ['entryId', first, 'attempts', '1', 'reason', 'site was deleted'],
      ['entryId', second, 'attempts', '1', 'reason', 'site was deleted'],
    ])
    expect(await pendingCount(redis, stream)).toBe(0)
  })

  it('dead-letters an entry delivered more than maxAttempts times without an ack', async () => {
    const { redis, prefix } = await testRedis()
    const log = logFor(prefix)
    const stream = log.keys.events(0)
    const entryId = await appendEntry(redis, log, ['k1'])
    await redis.xgroup('CREATE', stream, GROUP, '0')
    // A consumer that died on it three times (each history read counts a delivery).
    await redis.xreadgroup('GROUP', GROUP, 'ghost', 'STREAMS', stream, '>')
    await redis.xreadgroup('GROUP', GROUP, 'ghost', 'STREAMS', stream, '0')
    await redis.xreadgroup('GROUP', GROUP, 'ghost', 'STREAMS', stream, '0')
    const { calls } = await startConsumer(stream, async () => {}, {
      maxAttempts: 3,
      claimIdleMs: 50,
    })
    await waitFor('the dead letter', async () => (await deadLetters(redis, stream)).length === 1)

    expect(calls).toEqual([])
    const [[, fields]] = (await deadLetters(redis, stream)) as [[string, string[]]]
    expect(fields.slice(2, 8)).toEqual([
      'entryId',
      entryId,
      'attempts',
      '4',
      'reason',
      'delivered 4 times without an ack',
    ])
    expect(await pendingCount(redis, stream)).toBe(0)
  })

  it('stop() lets the in-flight batch finish and acks it before resolving', async () => {
    const { redis, prefix } = await testRedis()
    const log = logFor(prefix)
    const stream = log.keys.events(0)
    const entryId = await appendEntry(redis, log, ['s1', 's2'])
    const { gate, release } = openLater()
    const { consumer, running, calls } = await startConsumer(stream, () => gate)
    await waitFor('the handler call', async () => calls.length === 1)
    let stopped = false
    const stopping = consumer.stop().then(() => {
      stopped = true
    })
    await sleep(300)
    expect(stopped).toBe(false)
    expect(await pendingCount(redis, stream)).toBe(1)

    release()
    await stopping
    await running
    expect(calls).toEqual([{ ids: [entryId], ok: true }])
    expect(await pendingCount(redis, stream)).toBe(0)
    await appendEntry(redis, log, ['s3'])
    await sleep(100)
    expect(calls.length).toBe(1)
  })

  it('stop() ends a parked XREADGROUP BLOCK at once instead of waiting blockMs', async () => {
    const { prefix } = await testRedis()
    const stream = logFor(prefix).keys.events(0)
    const { consumer, running } = await startConsumer(stream, async () => {}, { blockMs: 10_000 })
    await sleep(300)
    const started = Date.now()
    await consumer.stop()
    await running
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('rejects maxAttempts below 2, where a failed batch would dead-letter its neighbours', async () => {
    const { redis } = await testRedis()
    expect(() =>
      createConsumer({
        redis,
        blocking: redis,
        stream: 's',
        group: 'g',
        consumer: 'c',
        maxAttempts: 1,
        handler: async () => {},
      }),
    ).toThrow(RangeError)
  })
})

describe('reclaimIdle', { timeout: 15_000 }, () => {
  it('claims idle entries of other consumers and acks pending ids whose entries are gone', async () => {
    const { redis, prefix } = await testRedis()
    const stream = logFor(prefix).keys.events(0)
    const ids: string[] = []
    for (const field of ['a', 'b', 'c']) {
      ids.push(String(await redis.xadd(stream, '*', field, '1')))
    }
    await redis.xgroup('CREATE', stream, GROUP, '0')
    await redis.xreadgroup('GROUP', GROUP, 'dead', 'STREAMS', stream, '>')
    await redis.xdel(stream, ids[1] as string)
    const options = { redis, stream, group: GROUP, consumer: 'live', count: 10 }

    // Redis drops ids of deleted entries whatever their idle time; live entries must be idle.
    expect(await reclaimIdle({ ...options, minIdleMs: 60_000 })).toEqual({ claimed: 0, deleted: 1 })
    await sleep(50)
    expect(await reclaimIdle({ ...options, minIdleMs: 20 })).toEqual({ claimed: 2, deleted: 0 })
    const pending = (await redis.xpending(stream, GROUP, '-', '+', 10)) as unknown[][]
    // JUSTID: the claim itself is not a delivery, so the counts stay at 1.
    expect(pending.map((row) => [row[0], row[1], row[3]])).toEqual([
      [ids[0], 'live', 1],
      [ids[2], 'live', 1],
    ])
  })

  it('claims at most count entries per call', async () => {
    const { redis, prefix } = await testRedis()
    const stream = logFor(prefix).keys.events(0)
    for (let i = 0; i < 5; i++) {
      await redis.xadd(stream, '*', `f${i}`, '1')
    }
    await redis.xgroup('CREATE', stream, GROUP, '0')
    await redis.xreadgroup('GROUP', GROUP, 'dead', 'STREAMS', stream, '>')
    const options = { redis, stream, group: GROUP, consumer: 'live', minIdleMs: 0 }
    expect(await reclaimIdle({ ...options, count: 3 })).toEqual({ claimed: 3, deleted: 0 })
    const [, , , consumers] = (await redis.xpending(stream, GROUP)) as [
      number,
      string,
      string,
      [string, string][],
    ]
    expect(consumers.sort()).toEqual([
      ['dead', '2'],
      ['live', '3'],
    ])
  })
})
