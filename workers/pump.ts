/**
 * @module The pump: the `pipeline` consumer group on every `events:{p}` hands the log's entries
 * to the BullMQ `events` queue, then acks. Consecutive entries of one read share a job, up to
 * `eventsPerJob` events: each job costs the queue and the processors a fixed amount (its
 * BullMQ bookkeeping, the processors' round trips), so under load bigger jobs carry more events
 * per CPU second. A quiet log gives one entry per read, so one entry per job, and batching
 * adds no wait: it only groups entries that were already waiting.
 *
 * Idempotent: BullMQ refuses a job id it still holds, and ids are stable. A job of one entry is
 * `p<p>-<entry id>`. For a job of several, the pump first records which job holds each of its
 * entries (`keys.pumpJobs`, entry id → job id), then adds the jobs, then acks; the record is
 * deleted once the entries are acknowledged. An entry read again (by this pump after a restart
 * or a failed call, or by another pump through XAUTOCLAIM) comes alone, and is added as its own
 * job only when no job recorded for it exists. So a pump killed between adding jobs and XACK
 * adds nothing twice when it comes back, and one killed after the record but before the jobs
 * loses nothing. BullMQ adds a bulk in one MULTI: all of its jobs exist, or none does.
 *
 * Past the queue's retention (streams/jobs.ts, eventsJobOptions) a job no longer exists, and
 * an entry read again after that is processed again: profiles absorb it (exactly-once),
 * recommendations count it twice (at-least-once). That was so with one entry per job too.
 *
 * Several pumps may run at once; the consumer group shares the entries between them.
 */
import type { Queue } from 'bullmq'
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

/**
 * A record of an interrupted batch is kept this long at least (every batch renews it): far
 * past the time its entries wait to be reclaimed (NUDGE_CLAIM_IDLE) and past the queue's
 * retention of completed jobs, after which the record no longer helps.
 */
const RECORD_TTL_MS = 24 * 3_600_000

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
  for (let partition = 0; partition < opts.partitions; partition++) {
    const reader = createBlockingRedis(opts.redisUrl, `nudge-pump-${partition}`)
    blocking.push(reader)
    const records = keys.pumpJobs(partition)
    /** Entries with a record, not yet acknowledged. */
    const recorded = new Set<string>()
    /** Acknowledged entries whose record is deleted with the next batch's records. */
    const settled: string[] = []

    const jobOf = (id: string, entries: ConsumedEntry[]): BulkJob => ({
      name: 'events',
      data: {
        partition,
        entryId: entries[0]?.streamId ?? '',
        events: entries.flatMap((e) => e.events),
      },
      opts: { ...jobOptions, jobId: id },
    })

    async function addBatch(entries: ConsumedEntry[]): Promise<void> {
      const jobs: BulkJob[] = []
      const record: string[] = []
      for (const group of groupEntries(entries, eventsPerJob)) {
        const first = group[0]?.streamId ?? ''
        if (group.length === 1) {
          jobs.push(jobOf(eventsJobId(partition, first), group))
          continue
        }
        const id = eventsBatchJobId(partition, first, group.length)
        for (const entry of group) {
          record.push(entry.streamId, id)
          recorded.add(entry.streamId)
        }
        jobs.push(jobOf(id, group))
      }
      if (record.length > 0 || settled.length > 0) {
        const done = settled.splice(0)
        const write = redis.pipeline()
        if (done.length > 0) {
          write.hdel(records, ...done)
        }
        if (record.length > 0) {
          write.hset(records, ...record)
          write.pexpire(records, RECORD_TTL_MS)
        }
        await replies(write).catch((error: unknown) => {
          settled.push(...done)
          throw error
        })
      }
      await queue.addBulk(jobs)
    }

    /** An entry read again: added alone unless the job recorded for it exists. */
    async function addAgain(entry: ConsumedEntry): Promise<void> {
      const holder = await redis.hget(records, entry.streamId)
      if (holder !== null) {
        recorded.add(entry.streamId)
        if ((await queue.getJobState(holder)) !== 'unknown') {
          return
        }
      }
      await queue.addBulk([jobOf(eventsJobId(partition, entry.streamId), [entry])])
    }

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
          for (const id of ids) {
            if (recorded.delete(id)) {
              settled.push(id)
            }
          }
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
      for (const reader of blocking) {
        reader.disconnect()
      }
    },
  }
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
