import { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createBlockingRedis, createRedis, waitReady } from '../runtime/redis'
import type { StoredEvent } from '../streams/events'
import { type EventsJob, eventsBatchJobId, eventsJobId, eventsJobOptions } from '../streams/jobs'
import { createKeys, GROUPS, type Keys } from '../streams/keys'
import { appendEvents, type EventLog, prepareEvent } from '../streams/produce'
import { TEST_REDIS_URL, testRedis } from '../test/redis'
import { createPump, entryJobs, groupEntries } from './pump'

const now = Date.now()

function event(id: string): StoredEvent {
  return {
    id,
    type: 'ProductViewed',
    v: 1,
    anonymousId: 'anon-1',
    ts: now - 1000,
    receivedAt: now,
    siteId: 'sit_test',
    verified: false,
    props: { productId: `p-${id}` },
  }
}

/**
 * Appends `count` entries of `size` events each to partition 0 (events `e<from + entry>-<k>`);
 * returns their ids.
 */
async function appendEntries(redis: Redis, keys: Keys, count: number, size: number, from = 0) {
  const log: EventLog = { keys, partitions: 1, retentionMs: 3_600_000, dedupWindowMs: 60_000 }
  const ids: string[] = []
  for (let e = 0; e < count; e++) {
    const events = Array.from({ length: size }, (_, k) => event(`e${from + ids.length}-${k}`))
    await appendEvents(
      redis,
      log,
      events.map((ev) => prepareEvent(ev, 1)),
      Date.now(),
    )
    const [last] = await redis.xrevrange(keys.events(0), '+', '-', 'COUNT', 1)
    ids.push((last as [string, string[]])[0])
  }
  return ids
}

async function setup() {
  const { redis, prefix } = await testRedis()
  const keys = createKeys(prefix)
  const connection = createBlockingRedis(TEST_REDIS_URL, 'test-queue')
  const queue = new Queue<EventsJob>('events', { connection, prefix: `${prefix}bull` })
  const client = createRedis(TEST_REDIS_URL, { commandTimeoutMs: 2000 })
  await waitReady(client, 2000)
  onTestFinished(async () => {
    await queue.close()
    connection.disconnect()
    client.disconnect()
  })
  const startPump = (name: string, claimIdleMs = 30_000) => {
    const pump = createPump({
      redis: client,
      redisUrl: TEST_REDIS_URL,
      keys,
      partitions: 1,
      queue,
      name,
      eventsPerJob: 100,
      claimIdleMs,
    })
    const running = pump.run()
    onTestFinished(async () => {
      await pump.stop()
      await running
    })
    return { pump, running }
  }
  /** Every job on the queue: id → the ids of its events. */
  const jobs = async () => {
    const all = await queue.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed'])
    return new Map(all.map((job) => [job.id, job.data.events.map((e) => e.id)]))
  }
  const pending = async () =>
    Number(((await redis.xpending(keys.events(0), GROUPS.pipeline)) as [number])[0])
  /** The pump's records of partition 0, over every hour. */
  const records = async () => {
    const found = await redis.keys(`${keys.pumpJobs(0, 0).slice(0, -1)}*`)
    const all: Record<string, string> = {}
    for (const key of found) {
      Object.assign(all, await redis.hgetall(key))
    }
    return all
  }
  /** What a pump killed after its read did: entries pending for `name`, and these records. */
  const deadPump = async (name: string, entries: string[], recorded: string) => {
    await readAsDeadPump(redis, keys, name)
    for (const entry of entries) {
      const hour = Math.floor(Number.parseInt(entry, 10) / 3_600_000)
      await redis.hset(keys.pumpJobs(0, hour), entry, recorded)
    }
  }
  return { redis, keys, queue, startPump, jobs, pending, records, deadPump }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 8000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Entries read by consumer `name` of the pipeline group and left pending, as a killed pump leaves them. */
async function readAsDeadPump(redis: Redis, keys: Keys, name: string) {
  await redis.xgroup('CREATE', keys.events(0), GROUPS.pipeline, '0', 'MKSTREAM')
  const args = ['GROUP', GROUPS.pipeline, name, 'COUNT', 100, 'STREAMS', keys.events(0), '>']
  await redis.call('XREADGROUP', ...args)
}

const eventIds = (entries: number, size: number, from = 0) =>
  Array.from({ length: entries * size }, (_, i) => `e${from + Math.floor(i / size)}-${i % size}`)

describe('groupEntries', () => {
  const entry = (n: number) => ({ streamId: `${n}-0`, events: Array(n).fill(event('x')) })

  it('keeps consecutive entries together while their events fit, a big entry alone', () => {
    const groups = groupEntries([entry(60), entry(30), entry(30), entry(150), entry(1)], 100)
    expect(groups.map((g) => g.map((e) => e.events.length))).toEqual([[60, 30], [30], [150], [1]])
  })
})

describe('pump', { timeout: 20_000 }, () => {
  it('puts consecutive entries of a read into jobs of at most 100 events, and acks them', async () => {
    const t = await setup()
    const entries = await appendEntries(t.redis, t.keys, 7, 20)
    const { pump, running } = t.startPump('pump-a')
    await waitFor(
      'every entry acked',
      async () => (await t.jobs()).size === 2 && (await t.pending()) === 0,
    )

    const jobs = await t.jobs()
    expect([...jobs.keys()].sort()).toEqual(
      [eventsBatchJobId(0, entries[0] ?? '', 5), eventsBatchJobId(0, entries[5] ?? '', 2)].sort(),
    )
    expect(jobs.get(eventsBatchJobId(0, entries[0] ?? '', 5))).toEqual(eventIds(5, 20))
    expect(jobs.get(eventsBatchJobId(0, entries[5] ?? '', 2))).toEqual(eventIds(2, 20, 5))
    // A batch job knows its entries, to be split back into them if it fails for good.
    const [batch] = await t.queue.getJobs(['waiting'])
    expect(batch?.data.entries?.map(([, n]) => n)).toBeDefined()
    // Added entries are marked; the next read deletes the acknowledged entries' records.
    expect(Object.values(await t.records())).toEqual(Array(7).fill('+'))
    const [single] = await appendEntries(t.redis, t.keys, 1, 1, 7)
    await waitFor('the single entry', async () => (await t.jobs()).size === 3)
    expect((await t.jobs()).has(eventsJobId(0, single ?? ''))).toBe(true)
    expect(Object.keys(await t.records())).toEqual([single])
    // Stopping deletes the last read's records: nothing is left behind.
    await pump.stop()
    await running
    expect(await t.records()).toEqual({})
    const ttl = await t.redis.pttl(t.keys.pumpJobs(0, Math.floor(Date.now() / 3_600_000)))
    expect(ttl).toBe(-2)
  })

  it.each([
    ['restarting under its name', 'pump-dead', 30_000],
    ['another pump taking its entries over (XAUTOCLAIM)', 'pump-b', 200],
  ])(
    'adds nothing twice after a pump died between adding its jobs and acking: %s',
    async (_, taker, claimIdleMs) => {
      const t = await setup()
      const entries = await appendEntries(t.redis, t.keys, 3, 20)
      // What the dead pump did before it was killed: the record, then the job.
      const id = eventsBatchJobId(0, entries[0] ?? '', 3)
      await t.deadPump('pump-dead', entries, id)
      await t.queue.add(
        'events',
        { partition: 0, entryId: entries[0] ?? '', events: eventIds(3, 20).map(event) },
        { jobId: id },
      )

      t.startPump(taker, claimIdleMs)
      await waitFor('the entries acked', async () => (await t.pending()) === 0)
      expect([...(await t.jobs()).keys()]).toEqual([id])
    },
  )

  it('loses nothing when a pump died after recording a batch but before adding it', async () => {
    const t = await setup()
    const entries = await appendEntries(t.redis, t.keys, 3, 20)
    await t.deadPump('pump-dead', entries, eventsBatchJobId(0, entries[0] ?? '', 3))

    t.startPump('pump-dead')
    await waitFor('the entries acked', async () => (await t.pending()) === 0)
    const jobs = await t.jobs()
    // Each entry alone, under its own id: every event exactly once.
    expect([...jobs.keys()].sort()).toEqual(entries.map((entry) => eventsJobId(0, entry)).sort())
    expect([...jobs.values()].flat().sort()).toEqual(eventIds(3, 20).sort())
  })

  it('skips entries marked added even when their job is gone (retention), on another pump', async () => {
    const t = await setup()
    const entries = await appendEntries(t.redis, t.keys, 3, 20)
    // Killed after adding its jobs and marking them; the jobs completed and were removed since.
    await t.deadPump('pump-dead', entries, '+')

    // Another pump takes the dead one's entries over (XAUTOCLAIM) once they are idle.
    t.startPump('pump-b', 200)
    await waitFor('the entries acked', async () => (await t.pending()) === 0)
    expect((await t.jobs()).size).toBe(0)
  })
})

describe('pump records', { timeout: 20_000 }, () => {
  it('keeps the records of entries read long after their hour (a pump catching up)', async () => {
    const t = await setup()
    // Two entries written three days ago, as a log the pumps were away from would hold them.
    const old = Date.now() - 3 * 86_400_000
    for (const n of [0, 1]) {
      const ev = event(`old-${n}`)
      await t.redis.xadd(t.keys.events(0), `${old}-${n}`, ev.id, JSON.stringify(ev))
    }
    t.startPump('pump-a')
    await waitFor(
      'the entries added and acked',
      async () => (await t.jobs()).size === 1 && (await t.pending()) === 0,
    )
    expect(Object.values(await t.records())).toEqual(['+', '+'])
    const ttl = await t.redis.pttl(t.keys.pumpJobs(0, Math.floor(old / 3_600_000)))
    expect(ttl).toBeGreaterThan(23 * 3_600_000)
  })
})

describe('entryJobs', () => {
  it('splits a job of several entries back into one job per entry, in order', () => {
    const events = eventIds(3, 2).map(event)
    const jobs = entryJobs(
      {
        partition: 2,
        entryId: '1-0',
        events,
        entries: [
          ['1-0', 2],
          ['2-0', 2],
          ['3-0', 2],
        ],
      },
      eventsJobOptions(100),
    )
    expect(jobs.map((job) => job.opts?.jobId)).toEqual(['p2-1-0', 'p2-2-0', 'p2-3-0'])
    expect(jobs.map((job) => job.data.events.map((e) => e.id))).toEqual([
      ['e0-0', 'e0-1'],
      ['e1-0', 'e1-1'],
      ['e2-0', 'e2-1'],
    ])
    // Nothing to split, or entries that do not account for the events: no guessing.
    expect(entryJobs({ partition: 0, entryId: '1-0', events }, eventsJobOptions(100))).toEqual([])
    expect(
      entryJobs(
        {
          partition: 0,
          entryId: '1-0',
          events,
          entries: [
            ['1-0', 2],
            ['2-0', 2],
          ],
        },
        eventsJobOptions(100),
      ),
    ).toEqual([])
  })
})
