/**
 * @module Periodic work as BullMQ job schedulers on the `maintenance` queue: every workers
 * process upserts the same schedulers (idempotent by id), and BullMQ runs each tick once
 * across all of them. Add a task by naming it in `TASKS` and handling it in `run`.
 */
import { Queue, Worker } from 'bullmq'
import type { Logger } from '../runtime/logger'
import { createBlockingRedis, type Redis } from '../runtime/redis'
import type { Keys } from '../streams/keys'
import { QUEUES } from '../streams/keys'
import { trimPartition } from '../streams/trim'

/** Task name → how often it runs. */
export type MaintenanceTask = { every: number; run: () => Promise<unknown> }

export type MaintenanceDeps = {
  redis: Redis
  redisUrl: string
  keys: Keys
  bullPrefix: string
  partitions: number
  retentionMs: number
  logger: Logger
  /** How often streams are trimmed (default 60 s). */
  trimEveryMs?: number
  /** More tasks from other processors (e.g. trending decay), by name. */
  extra?: Record<string, MaintenanceTask>
}

/**
 * @example const maintenance = await startMaintenance(deps); await maintenance.close()
 */
export async function startMaintenance(deps: MaintenanceDeps): Promise<{ close(): Promise<void> }> {
  const tasks: Record<string, MaintenanceTask> = {
    'trim-streams': {
      every: deps.trimEveryMs ?? 60_000,
      run: async () => {
        let trimmed = 0
        for (let p = 0; p < deps.partitions; p++) {
          trimmed += (await trimPartition(deps.redis, deps.keys, p, deps.retentionMs, Date.now()))
            .trimmed
        }
        return { trimmed }
      },
    },
    ...deps.extra,
  }
  const queueConnection = createBlockingRedis(deps.redisUrl, 'nudge-maintenance-queue')
  const workerConnection = createBlockingRedis(deps.redisUrl, 'nudge-maintenance-worker')
  const queue = new Queue(QUEUES.maintenance, {
    connection: queueConnection,
    prefix: deps.bullPrefix,
  })
  for (const [name, task] of Object.entries(tasks)) {
    await queue.upsertJobScheduler(
      name,
      { every: task.every },
      { name, opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
    )
  }
  const worker = new Worker(
    QUEUES.maintenance,
    async (job) => {
      const task = tasks[job.name]
      if (!task) {
        // A task another version scheduled: leave it to the processes that know it.
        throw new Error(`unknown maintenance task ${job.name}`)
      }
      return task.run()
    },
    { connection: workerConnection, prefix: deps.bullPrefix, concurrency: 1 },
  )
  worker.on('failed', (job, err) =>
    deps.logger.warn({ task: job?.name, err: err.message }, 'maintenance task failed'),
  )
  return {
    async close() {
      await worker.close()
      await queue.close()
      workerConnection.disconnect()
      queueConnection.disconnect()
    },
  }
}
