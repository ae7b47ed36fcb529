/**
 * @module The pump: the `pipeline` consumer group on every `events:{p}` hands the log's entries
 * to the BullMQ `events` queue, then acks. Consecutive entries of one read share a job, up to
 * `eventsPerJob` events: each job costs the queue and the processors a fixed amount (its
 * BullMQ bookkeeping, the processors' round trips), so under load bigger jobs carry more events
 * per CPU second. A quiet log gives one entry per read, so one entry per job, and batching
 * adds no wait: it only groups entries that were already waiting.
 *
 * Nothing twice, nothing lost. A job of one entry has the id `p<p>-<entry id>`, and BullMQ
 * refuses an id it still holds. For each read the pump records, per entry, in
 * `keys.pumpJobs(p, hour)`:
 * 1. before adding the jobs, for the entries of a job of several: that job's id;
 * 2. after adding them, for every entry: '+' (added);
 * then acks. An entry read again (by this pump after a failed call or a restart, or by another
 * through XAUTOCLAIM) comes alone: it is skipped when marked added, or when the job recorded for
 * it exists, and is added as its own job otherwise. So a pump killed after its jobs were added
 * adds nothing twice, however long its entries wait to be reclaimed, and one killed after (1)
 * but before the jobs loses nothing. Only a kill between adding the jobs and (2) leans on the
 * queue's retention (streams/jobs.ts, eventsJobOptions) for an entry of one, as every entry
 * did before jobs held several: past it, an entry read again is processed again, which profiles
 * absorb (exactly-once) and recommendations count twice (at-least-once). BullMQ sends a bulk as
 * a pipeline, not atomically: each entry is checked on its own, so a bulk cut short is fine.
 *
 * Records of acknowledged entries are deleted with the next read's records (or on stop); each
 * hour's hash expires a day after the hour anyway, so what a killed pump leaves behind goes.
 * Assumption, as for every consumer (streams/consume.ts): a handler call, here one addBulk,
 * finishes well within NUDGE_CLAIM_IDLE. One that hangs longer while another pump reclaims its
 * entries can have them added twice, alone and in its batch.
 *
 * Several pumps may run at once; the consumer group shares the entries between them.
 */
import type { Queue } from 'bullmq'
import type { ChainableCommander } from 'ioredis'
import type { Logger } from '../runtime/logger'
import { createBlockingRedis, type Redis } from '../runtime/redis'
import { type ConsumedEntry, type Consumer, createConsumer } from '../streams/consume'
import { type EventsJob, eventsBatchJobId, eventsJobId, eventsJobOptions } from '../streams/jobs'
import { GROUPS, type Keys } from '../streams/keys'
import { replies } from './processors/redis-replies'

export type PumpOptions = {
  redis: Redis
  redisUrl: string
  keys: Keys
  partitions: number
  queue: Queue<EventsJob>
  /** Unique per pump process (e.g. host + pid), stable across restarts if possible. */
  name: string
  logger?: Logger
  /** Entries per read (default 200). */
  batchSize?: number
  /**
   * Most events per job (default 200, NUDGE_EVENTS_PER_JOB): consecutive entries of a read share a job while their
   * events fit. An entry with more events than that is a job of its own.
   */
  eventsPerJob?: number
  /** Entries of a dead pump are reclaimed after this long (default 30 s). */
  claimIdleMs?: number
}

export type Pump = { run(): Promise<void>; stop(): Promise<void> }

const HOUR_MS = 3_600_000

/**
 * Each hour's records expire this long after the hour, or after they were last written when
 * that is later (a pump catching up on old entries): far past NUDGE_CLAIM_IDLE, the longest an
 * entry of a dead pump waits to be reclaimed while another pump runs.
 */
const RECORD_TTL_MS = 24 * HOUR_MS

/** The record of an entry whose job is added. */
const ADDED = '+'

type BulkJob = Parameters<Queue<EventsJob>['addBulk']>[0][number]

/**
 * @example const pump = createPump({ redis, redisUrl, keys, partitions: 8, queue, name: 'pump-1' })
 */
export function createPump(opts: PumpOptions): Pump {
  const { redis, keys, queue } = opts
  const eventsPerJob = opts.eventsPerJob ?? 200
  const jobOptions = eventsJobOptions(eventsPerJob)
  const blocking: Redis[] = []
  const consumers: Consumer[] = []
  /** Per partition: deletes the records of entries acknowledged since the last read. */
  const flushes: (() => Promise<void>)[] = []
  for (let partition = 0; partition < opts.partitions; partition++) {
    const reader = createBlockingRedis(opts.redisUrl, `nudge-pump-${partition}`)
    blocking.push(reader)
    /** Acknowledged entries, whose records are deleted with the next call's. */
    const settled: string[] = []

    const jobOf = (id: string, entries: ConsumedEntry[]): BulkJob => ({
      name: 'events',
      data: {
        partition,
        entryId: entries[0]?.streamId ?? '',
        events: entries.flatMap((e) => e.events),
        ...(entries.length > 1 && {
          entries: entries.map((e): [string, number] => [e.streamId, e.events.length]),
        }),
      },
      opts: { ...jobOptions, jobId: id },
    })

    /** Queues `field → value` records of each entry in its hour's hash, and that hash's expiry. */
    const record = (write: ChainableCommander, entries: [string, string][]) => {
      for (const [hour, fields] of byHour(entries)) {
        const key = keys.pumpJobs(partition, hour)
        write.hset(key, ...fields.flat())
        // Never in the past: an entry read more than a day after its hour would otherwise
        // have its records deleted as they are written. NX sets a fresh hash's expiry, GT
        // only ever moves it later.
        const at = Math.max((hour + 1) * HOUR_MS, Date.now()) + RECORD_TTL_MS
        write.call('PEXPIREAT', key, at, 'NX')
        write.call('PEXPIREAT', key, at, 'GT')
      }
    }

    /**
     * Runs `queue(write)` on a pipeline that first deletes the records of the entries
     * acknowledged since the last call; their replies come first. If it fails, those deletes
     * wait for the next call.
     */
    async function withForgetting(queue: (write: ChainableCommander) => void): Promise<unknown[]> {
      const done = settled.splice(0)
      const write = redis.pipeline()
      for (const [hour, fields] of byHour(done.map((id): [string, string] => [id, '']))) {
        write.hdel(keys.pumpJobs(partition, hour), ...fields.map(([id]) => id))
      }
      queue(write)
      try {
        return await replies(write)
      } catch (error) {
        settled.push(...done)
        throw error
      }
    }

    async function addBatch(entries: ConsumedEntry[]): Promise<void> {
      const jobs: BulkJob[] = []
      const intents: [string, string][] = []
      for (const group of groupEntries(entries, eventsPerJob)) {
        const first = group[0]?.streamId ?? ''
        if (group.length === 1) {
          jobs.push(jobOf(eventsJobId(partition, first), group))
          continue
        }
        const id = eventsBatchJobId(partition, first, group.length)
        for (const entry of group) {
          intents.push([entry.streamId, id])
        }
        jobs.push(jobOf(id, group))
      }
      if (intents.length > 0) {
        const write = redis.pipeline()
        record(write, intents)
        await replies(write)
      }
      await queue.addBulk(jobs)
      await withForgetting((write) =>
        record(
          write,
          entries.map((entry): [string, string] => [entry.streamId, ADDED]),
        ),
      )
    }

    /** An entry read again: skipped when added, or when its recorded job exists; else added alone. */
    async function addAgain(entry: ConsumedEntry): Promise<void> {
      const read = await withForgetting((write) => {
        write.hget(keys.pumpJobs(partition, hourOf(entry.streamId)), entry.streamId)
      })
      const held = read.at(-1) as string | null
      if (held === ADDED || (held !== null && (await redis.exists(queue.toKey(held))) === 1)) {
        return
      }
      await queue.addBulk([jobOf(eventsJobId(partition, entry.streamId), [entry])])
    }

    flushes.push(async () => {
      if (settled.length > 0) {
        await withForgetting(() => {})
      }
    })

    consumers.push(
      createConsumer({
        redis,
        blocking: reader,
        stream: keys.events(partition),
        group: GROUPS.pipeline,
        consumer: opts.name,
        batchSize: opts.batchSize ?? 200,
        claimIdleMs: opts.claimIdleMs ?? 30_000,
        logger: opts.logger,
        handler: async (entries, { retry }) => {
          if (retry) {
            for (const entry of entries) {
              await addAgain(entry)
            }
          } else {
            await addBatch(entries)
          }
        },
        acked: (ids) => {
          settled.push(...ids)
        },
      }),
    )
  }
  let running: Promise<unknown> | undefined
  return {
    run() {
      running = Promise.all(consumers.map((c) => c.run()))
      return running.then(() => undefined)
    },
    async stop() {
      await Promise.all(consumers.map((c) => c.stop()))
      await running
      // Best effort: what is left expires with its hour's hash.
      await Promise.all(flushes.map((flush) => flush().catch(() => undefined)))
      for (const reader of blocking) {
        reader.disconnect()
      }
    },
  }
}

/**
 * One job per entry of a job of several, each with that entry's events and its own id: what
 * the events worker adds in place of such a job that failed, so that one entry's failure
 * keeps only that entry's events back. Empty for a job of one entry, or when `entries`
 * does not account for the events exactly.
 * @example await queue.addBulk(entryJobs(job.data, eventsJobOptions(200)))
 */
export function entryJobs(
  data: EventsJob,
  options: ReturnType<typeof eventsJobOptions>,
): BulkJob[] {
  const entries = data.entries
  // Also called for a job refused as malformed: split nothing that does not add up exactly.
  if (
    !Array.isArray(entries) ||
    !Array.isArray(data.events) ||
    entries.length < 2 ||
    !entries.every((e) => Array.isArray(e) && typeof e[0] === 'string' && Number.isInteger(e[1])) ||
    entries.reduce((sum, [, n]) => sum + n, 0) !== data.events.length
  ) {
    return []
  }
  let from = 0
  return entries.map(([entryId, count]) => {
    const events = data.events.slice(from, from + count)
    from += count
    return {
      name: 'events',
      data: { partition: data.partition, entryId, events, ...(data.replay && { replay: true }) },
      opts: { ...options, jobId: eventsJobId(data.partition, entryId) },
    }
  })
}

/** The hour of an entry, from its id's time part. */
function hourOf(entryId: string): number {
  return Math.floor(Number.parseInt(entryId, 10) / HOUR_MS)
}

/** Records grouped by the hour of their entry. */
function byHour(records: [string, string][]): Map<number, [string, string][]> {
  const hours = new Map<number, [string, string][]>()
  for (const entry of records) {
    const hour = hourOf(entry[0])
    const list = hours.get(hour)
    if (list) {
      list.push(entry)
    } else {
      hours.set(hour, [entry])
    }
  }
  return hours
}

/**
 * Consecutive runs of entries whose events fit in `most` (an entry bigger than that alone).
 * @example groupEntries([a(60), b(30), c(30)], 100) // [[a, b], [c]]
 */
export function groupEntries(entries: readonly ConsumedEntry[], most: number): ConsumedEntry[][] {
  const groups: ConsumedEntry[][] = []
  let group: ConsumedEntry[] = []
  let events = 0
  for (const entry of entries) {
    if (group.length > 0 && events + entry.events.length > most) {
      groups.push(group)
      group = []
      events = 0
    }
    group.push(entry)
    events += entry.events.length
  }
  if (group.length > 0) {
    groups.push(group)
  }
  return groups
}
