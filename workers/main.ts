/**
 * @module The workers role's wiring: the pump (log → queue) and the events worker (queue →
 * profiles, recommendations). `close` stops the pump first (no new jobs), then lets the
 * worker finish the jobs it holds, then closes the queue.
 */
import { hostname } from 'node:os'
import { Queue, Worker } from 'bullmq'
import type { Db } from '../drizzle/client'
import { findEventWeights } from '../drizzle/queries/sites'
import type { Config } from '../runtime/config'
import type { Logger } from '../runtime/logger'
import type { Metrics } from '../runtime/metrics'
import { createBlockingRedis, type Redis } from '../runtime/redis'
import { type EventsJob, eventsJobOptions } from '../streams/jobs'
import { createKeys, type Keys, QUEUES, bullPrefix as queuePrefix } from '../streams/keys'
import { DEFAULT_WEIGHTS } from './domain/profile-delta'
import { inEventsJobSpan } from './events-job-span'
import { startMaintenance } from './maintenance'
import type { DelayedJob, OfferDeps } from './offers/deps'
import { startRuleCache } from './offers/rule-cache'
import { createDelayedProcessor, createOffersStep } from './offers/step'
import { createEventsProcessor } from './processors/events'
import { PROFILE_LIMITS, type ProfileStore, profileOf } from './processors/profile'
import { createRecommendationsStep } from './processors/recommendations'
import { createPump, entryJobs } from './pump'
import { backfillShoppers } from './repeatables/backfill-shoppers'
import { snapshotProfiles } from './repeatables/snapshot-profiles'
import { decayTrending } from './repeatables/trending-decay'
import { createSiteWeights, type LoadOverrides } from './site-weights'

export type WorkersDeps = {
  config: Config
  logger: Logger
  redis: Redis
  redisUrl: string
  db: Db
  /** Run the pump in this process (default true). */
  pump?: boolean
  /** Where to count decisions and processed events (the role's /metrics). */
  metrics?: Metrics
}

/** BullMQ's key prefix of this install (streams/keys.ts `bullPrefix`). */
export function bullPrefix(config: Config): string {
  return queuePrefix(config.NUDGE_KEY_PREFIX)
}

/**
 * The events processor with every step the workers run, on the given keys: the live workers
 * use the install's keys, `nudge replay` those of its target prefix.
 * @example const processEvents = createEventsPipeline({ config, redis, keys: createKeys('rebuild:') })
 */
export function createEventsPipeline(deps: {
  config: Config
  redis: Redis
  keys: Keys
  /** A site's weight overrides (from the database); defaults for every site when absent. */
  eventWeights?: LoadOverrides
  /** The offers step; absent for rebuilds (replay), which never send offers. */
  offers?: { deps: OfferDeps; db: Db }
}) {
  const { config, redis, keys } = deps
  const weightsFor = deps.eventWeights && createSiteWeights(deps.eventWeights)
  const profiles: ProfileStore = {
    redis,
    keys,
    weights: DEFAULT_WEIGHTS,
    weightsFor,
    retentionMs: config.NUDGE_RETENTION,
    ttlMs: config.NUDGE_PROFILE_TTL,
    ...PROFILE_LIMITS,
  }
  const halfLifeFor =
    weightsFor && (async (siteId: string) => (await weightsFor(siteId)).halfLifeMs)
  return createEventsProcessor(
    profiles,
    [createRecommendationsStep({ redis, keys, halfLifeFor })],
    deps.offers ? [createOffersStep(deps.offers.deps, deps.offers.db)] : [],
  )
}

/**
 * @example const workers = await startWorkers(deps); await workers.close()
 */
export async function startWorkers(
  deps: WorkersDeps,
): Promise<{ close(): Promise<void>; rules: { reload(): Promise<void> } }> {
  const { config, logger, redis } = deps
  const keys = createKeys(config.NUDGE_KEY_PREFIX)
  const prefix = bullPrefix(config)
  const queueConnection = createBlockingRedis(deps.redisUrl, 'nudge-queue')
  const queue = new Queue<EventsJob>(QUEUES.events, { connection: queueConnection, prefix })

  const rules = await startRuleCache({
    db: deps.db,
    keys,
    subscriber: createBlockingRedis(deps.redisUrl, 'nudge-rules'),
    logger,
  })
  const delayedConnection = createBlockingRedis(deps.redisUrl, 'nudge-delayed')
  const delayedQueue = new Queue<DelayedJob>(QUEUES.delayedOffers, {
    connection: delayedConnection,
    prefix,
    // A delayed trigger must outlive a short outage: ~10 attempts over ~8 minutes. Done jobs
    // go at once, so their id (one per rule and shopper) frees up for the next trigger.
    defaultJobOptions: {
      attempts: 10,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  })
  const offerDeps: OfferDeps = {
    redis,
    keys,
    rules: rules.get,
    delayed: delayedQueue,
    profileOf,
    attributionMs: config.NUDGE_ATTRIBUTION_WINDOW,
    profileTtlMs: config.NUDGE_PROFILE_TTL,
    maxEventAgeMs: config.NUDGE_OFFER_MAX_AGE,
    onDecision: deps.metrics && ((decision) => deps.metrics?.offerDecisions.inc({ decision })),
  }
  const processEvents = createEventsPipeline({
    config,
    redis,
    keys,
    eventWeights: (siteId) => findEventWeights(deps.db, siteId),
    offers: { deps: offerDeps, db: deps.db },
  })
  const delayedWorkerConnection = createBlockingRedis(deps.redisUrl, 'nudge-delayed-worker')
  const delayedWorker = new Worker<DelayedJob>(
    QUEUES.delayedOffers,
    createDelayedProcessor(offerDeps, deps.db),
    {
      connection: delayedWorkerConnection,
      prefix,
      concurrency: 4,
      // As for events jobs: firing is idempotent per decision key, so a stalled job may rerun.
      maxStalledCount: 1_000_000,
    },
  )
  delayedWorker.on('failed', (job, err) =>
    logger.warn({ jobId: job?.id, err: err.message }, 'delayed offer job failed'),
  )
  delayedWorker.on('error', (err) => logger.error({ err }, 'delayed offer worker error'))
  const splitOptions = eventsJobOptions(config.NUDGE_EVENTS_PER_JOB)
  const workerConnection = createBlockingRedis(deps.redisUrl, 'nudge-worker')
  const worker = new Worker<EventsJob>(
    QUEUES.events,
    async (job) => {
      try {
        const result = await inEventsJobSpan(job, () => processEvents(job.data))
        deps.metrics?.eventsProcessed.inc({ outcome: 'applied' }, result.applied)
        deps.metrics?.eventsProcessed.inc(
          { outcome: 'seen before' },
          result.events - result.applied,
        )
        return result
      } catch (error) {
        // A job of several entries that fails becomes one job per entry at once, each with
        // its own attempts: one bad entry keeps back only its own events, and its neighbours
        // do not wait out the batch's retries. What the failed try applied is not applied
        // again (profiles are exactly-once per event; recommendations are at-least-once).
        // Split twice (a worker killed after adding them): same ids, so BullMQ adds them once.
        const split = entryJobs(job.data, splitOptions)
        if (split.length === 0) {
          throw error
        }
        await queue.addBulk(split)
        logger.warn(
          { jobId: job.id, entries: split.length, err: (error as Error).message },
          'events job of several entries failed: re-added as one job per entry',
        )
        return { events: 0, applied: 0, split: split.length }
      }
    },
    {
      connection: workerConnection,
      prefix,
      concurrency: config.NUDGE_WORKER_CONCURRENCY,
      stalledInterval: config.NUDGE_JOB_STALLED,
      lockDuration: config.NUDGE_JOB_STALLED,
      // BullMQ fails a job for good after one stall by default, losing its events when two
      // workers die in turn. Processing is idempotent per event id, so re-running is harmless.
      maxStalledCount: 1_000_000,
    },
  )
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
          eventsPerJob: config.NUDGE_EVENTS_PER_JOB,
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
    extra: {
      'trending-decay': {
        every: 10 * 60_000,
        run: () => decayTrending({ redis, keys, now: Date.now() }),
      },
      'snapshot-profiles': {
        every: 60_000,
        run: () => snapshotProfiles({ redis, keys, db: deps.db }),
      },
      // Once per install: returns at once after its first complete run.
      'backfill-shoppers': {
        every: 3_600_000,
        run: () => backfillShoppers({ redis, keys }),
      },
    },
  })

  return {
    rules,
    async close() {
      await pump?.stop()
      await pumping
      await maintenance.close()
      await worker.close()
      await delayedWorker.close()
      await queue.close()
      await delayedQueue.close()
      await rules.close()
      // BullMQ leaves connections it was given open.
      workerConnection.disconnect()
      queueConnection.disconnect()
      delayedConnection.disconnect()
      delayedWorkerConnection.disconnect()
    },
  }
}
