/**
 * @module The workers role's wiring: the pump (log → queue) and the events worker (queue →
 * profiles, recommendations). `close` stops the pump first (no new jobs), then lets the
 * worker finish the jobs it holds, then closes the queue.
 */
import { hostname } from 'node:os'
import { Queue, Worker } from 'bullmq'
import type { Config } from '../runtime/config'
import type { Logger } from '../runtime/logger'
import { createBlockingRedis, type Redis } from '../runtime/redis'
import type { EventsJob } from '../streams/jobs'
import { createKeys, QUEUES } from '../streams/keys'
import { DEFAULT_WEIGHTS } from './domain/profile-delta'
import { startMaintenance } from './maintenance'
import { createEventsProcessor } from './processors/events'
import { PROFILE_LIMITS, type ProfileStore } from './processors/profile'
import { createPump } from './pump'

export type WorkersDeps = {
  config: Config
  logger: Logger
  redis: Redis
  redisUrl: string
  /** Run the pump in this process (default true). */
  pump?: boolean
}

/** BullMQ's key prefix under the install's prefix, so tests and installs never share queues. */
export function bullPrefix(config: Config): string {
  return `${config.NUDGE_KEY_PREFIX}bull`
}

/**
 * @example const workers = await startWorkers(deps); await workers.close()
 */
export async function startWorkers(deps: WorkersDeps): Promise<{ close(): Promise<void> }> {
  const { config, logger, redis } = deps
  const keys = createKeys(config.NUDGE_KEY_PREFIX)
  const prefix = bullPrefix(config)
  const queueConnection = createBlockingRedis(deps.redisUrl, 'nudge-queue')
  const queue = new Queue<EventsJob>(QUEUES.events, { connection: queueConnection, prefix })

  const profiles: ProfileStore = {
    redis,
    keys,
    weights: DEFAULT_WEIGHTS,
    retentionMs: config.NUDGE_RETENTION,
    ...PROFILE_LIMITS,
  }
  const processEvents = createEventsProcessor(profiles)
  const workerConnection = createBlockingRedis(deps.redisUrl, 'nudge-worker')
  const worker = new Worker<EventsJob>(QUEUES.events, (job) => processEvents(job.data), {
    connection: workerConnection,
    prefix,
    concurrency: config.NUDGE_WORKER_CONCURRENCY,
    stalledInterval: config.NUDGE_JOB_STALLED,
    lockDuration: config.NUDGE_JOB_STALLED,
  })
  worker.on('failed', (job, err) => {
    logger.warn(
      { jobId: job?.id, attempts: job?.attemptsMade, err: err.message },
      'events job failed',
    )
  })
  worker.on('error', (err) => logger.error({ err }, 'events worker error'))

  const pump =
    deps.pump === false
      ? undefined
      : createPump({
          redis,
          redisUrl: deps.redisUrl,
          keys,
          partitions: config.NUDGE_PARTITIONS,
          queue,
          name: `pump-${hostname()}-${process.pid}`,
          claimIdleMs: config.NUDGE_CLAIM_IDLE,
          logger,
        })
  const pumping = pump?.run()
  const maintenance = await startMaintenance({
    redis,
    redisUrl: deps.redisUrl,
    keys,
    bullPrefix: prefix,
    partitions: config.NUDGE_PARTITIONS,
    retentionMs: config.NUDGE_RETENTION,
    logger,
  })

  return {
    async close() {
      await pump?.stop()
      await pumping
      await maintenance.close()
      await worker.close()
      await queue.close()
      // BullMQ leaves connections it was given open.
      workerConnection.disconnect()
      queueConnection.disconnect()
    },
  }
}
