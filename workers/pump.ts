/**
 * @module The pump: the `pipeline` consumer group on every `events:{p}` hands each log entry to
 * the BullMQ `events` queue as one job (a slice of events, never one job per event), then acks.
 *
 * Idempotent: the job id is the entry's (`p<p>-<entry id>`), and BullMQ refuses an id it still
 * holds, so a pump killed between addBulk and XACK adds nothing twice when its entries are read
 * again — by itself on restart, or by another pump through XAUTOCLAIM. Several pumps may run
 * at once; the consumer group shares the entries between them.
 */
import type { Queue } from 'bullmq'
import type { Logger } from '../runtime/logger'
import { createBlockingRedis, type Redis } from '../runtime/redis'
import { type Consumer, createConsumer } from '../streams/consume'
import { EVENTS_JOB_OPTIONS, type EventsJob, eventsJobId } from '../streams/jobs'
import { GROUPS, type Keys } from '../streams/keys'

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
  /** Entries of a dead pump are reclaimed after this long (default 30 s). */
  claimIdleMs?: number
}

export type Pump = { run(): Promise<void>; stop(): Promise<void> }

/**
 * @example const pump = createPump({ redis, redisUrl, keys, partitions: 8, queue, name: 'pump-1' })
 */
export function createPump(opts: PumpOptions): Pump {
  const blocking: Redis[] = []
  const consumers: Consumer[] = []
  for (let partition = 0; partition < opts.partitions; partition++) {
    const reader = createBlockingRedis(opts.redisUrl, `nudge-pump-${partition}`)
    blocking.push(reader)
    consumers.push(
      createConsumer({
        redis: opts.redis,
        blocking: reader,
        stream: opts.keys.events(partition),
        group: GROUPS.pipeline,
        consumer: opts.name,
        batchSize: opts.batchSize ?? 200,
        claimIdleMs: opts.claimIdleMs ?? 30_000,
        logger: opts.logger,
        handler: async (entries) => {
          await opts.queue.addBulk(
            entries.map((entry) => ({
              name: 'events',
              data: { partition, entryId: entry.streamId, events: entry.events },
              opts: { ...EVENTS_JOB_OPTIONS, jobId: eventsJobId(partition, entry.streamId) },
            })),
          )
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
