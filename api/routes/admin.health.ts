/**
 * @module Is the pipeline healthy? GET /v1/admin/health gives staff (any role) the figures that
 * tell "my rule does not fire" from "the pipeline is down": ingest counts and rate, each event
 * partition's length and the pump's lag, the BullMQ queues' depths and latest failed jobs, and
 * the live sockets with push latency. POST /v1/admin/health/retry puts failed jobs back on their
 * queue (admin only, audited).
 *
 * Scope: ingest and live figures come from this process's Prometheus registry — the same
 * numbers its /metrics serves. With `nudge start` (every role in one process) that is the whole
 * install; with the roles run apart, the gateway's own /metrics has its sockets. Streams and
 * queues are read from Redis, so they are install-wide either way.
 */
import { type Job, Queue } from 'bullmq'
import type { Context, Hono } from 'hono'
import { z } from 'zod'
import { recordAudit } from '../../drizzle/queries/audit'
import type { Metrics } from '../../runtime/metrics'
import { bullPrefix, createKeys, GROUPS, QUEUES } from '../../streams/keys'
import { requireStaff } from '../admin/auth'
import { parseWith } from '../admin/validate'
import { readJsonBody } from '../body'
import type { HonoEnv, Services } from '../context'
import { ApiError } from '../errors'

const HEALTH_QUEUES = [QUEUES.events, QUEUES.delayedOffers, QUEUES.maintenance] as const
type QueueName = (typeof HEALTH_QUEUES)[number]

/** Failed jobs listed per queue, newest first. */
const FAILED_SHOWN = 10

const queues = new WeakMap<Services, Map<string, Queue>>()

/**
 * The install's BullMQ queue `name`, on the api's own Redis connection (made once per app),
 * under the same prefix the workers use (streams/keys.ts `bullPrefix`).
 */
function queueOf(services: Services, name: QueueName): Queue {
  let byName = queues.get(services)
  if (!byName) {
    byName = new Map()
    queues.set(services, byName)
  }
  let queue = byName.get(name)
  if (!queue) {
    queue = new Queue(name, {
      connection: services.redis,
      prefix: bullPrefix(services.config.NUDGE_KEY_PREFIX),
    })
    queue.on('error', (err) => services.logger.warn({ err }, 'health: queue error'))
    byName.set(name, queue)
  }
  return queue
}

const samples = new WeakMap<Metrics, { at: number; accepted: number; rate: number | null }>()

/** Events accepted per second between the last two looks (null on the first look). */
function ingestRate(metrics: Metrics, accepted: number, now: number): number | null {
  const last = samples.get(metrics)
  if (!last) {
    samples.set(metrics, { at: now, accepted, rate: null })
    return null
  }
  if (now - last.at < 1000) {
    return last.rate
  }
  const rate = Math.max(0, (accepted - last.accepted) / ((now - last.at) / 1000))
  samples.set(metrics, { at: now, accepted, rate })
  return rate
}

/** The upper bound (ms) of the histogram bucket holding quantile `q`; null without data. */
function quantileMs(
  buckets: { le: number; count: number }[],
  total: number,
  q: number,
): number | null {
  if (total === 0) {
    return null
  }
  const hit = buckets.find((b) => b.count >= q * total)
  return hit && Number.isFinite(hit.le) ? hit.le * 1000 : null
}

async function liveFigures(metrics: Metrics) {
  const connections = (await metrics.liveConnections.get()).values[0]?.value ?? 0
  const push = (await metrics.livePushSeconds.get()).values
  const buckets = push
    .filter((v) => v.metricName?.endsWith('_bucket'))
    .map((v) => ({ le: Number(v.labels.le), count: v.value }))
    .sort((a, b) => a.le - b.le)
  const pushes = push.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0
  return {
    connections,
    pushes,
    pushP50Ms: quantileMs(buckets, pushes, 0.5),
    pushP95Ms: quantileMs(buckets, pushes, 0.95),
  }
}

/** XINFO GROUPS as objects (Redis answers flat [name, value, …] lists). */
function pairs(raw: unknown): Record<string, unknown> {
  const list = raw as unknown[]
  const out: Record<string, unknown> = {}
  for (let i = 0; i + 1 < list.length; i += 2) {
    out[String(list[i])] = list[i + 1]
  }
  return out
}

async function streamFigures(services: Services) {
  const keys = createKeys(services.config.NUDGE_KEY_PREFIX)
  const partitions = Array.from({ length: services.config.NUDGE_PARTITIONS }, (_, p) => p)
  return Promise.all(
    partitions.map(async (partition) => {
      const stream = keys.events(partition)
      const length = await services.redis.xlen(stream)
      const groups =
        length === 0 ? [] : await services.redis.xinfo('GROUPS', stream).catch(() => [])
      const group = (groups as unknown[]).map(pairs).find((g) => g.name === GROUPS.pipeline)
      return {
        partition,
        length,
        /** Entries not yet handed to the pump; null when Redis cannot tell (after trimming). */
        lag: group ? (group.lag === null ? null : Number(group.lag ?? 0)) : length,
        pending: group ? Number(group.pending ?? 0) : 0,
        pumpStarted: group !== undefined,
      }
    }),
  )
}

/** Failed jobs looked at per request when picking out one site's (queues are install-wide). */
const FAILED_SCANNED = 1_000

/**
 * Whether a job holds events of the site. A delayed job is one site's; an events job may hold
 * several requests of one log partition, so of several sites: each of them sees it and may
 * retry it (processing is idempotent per event, so a retry redoes nothing another site did).
 */
function concernsSite(job: Job, siteId: string): boolean {
  const data = job.data as { siteId?: unknown; events?: { siteId?: unknown }[] } | undefined
  // A malformed job (one failed as such) must not break the page: look only at an array.
  const events = Array.isArray(data?.events) ? data.events : []
  return data?.siteId === siteId || events.some((event) => event?.siteId === siteId)
}

/** The failed jobs of one site among the newest FAILED_SCANNED of the queue. */
async function failedOf(queue: Queue, siteId: string): Promise<Job[]> {
  return (await queue.getFailed(0, FAILED_SCANNED - 1)).filter((job) => concernsSite(job, siteId))
}

async function queueFigures(services: Services, siteId: string) {
  return Promise.all(
    HEALTH_QUEUES.map(async (name) => {
      const queue = queueOf(services, name)
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed')
      // Counts are the install's; which jobs failed and why, only this site's.
      const failed = (await failedOf(queue, siteId)).slice(0, FAILED_SHOWN)
      return {
        name,
        waiting: counts.waiting ?? 0,
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        failed: counts.failed ?? 0,
        latestFailed: failed.map((job) => ({
          id: job.id ?? '',
          failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
          attempts: job.attemptsMade,
          reason: job.failedReason,
        })),
      }
    }),
  )
}

async function health(c: Context<HonoEnv>, siteId: string) {
  const services = c.get('services')
  const now = Date.now()
  const counts = (await services.metrics.ingestEvents.get()).values
  const count = (outcome: string) =>
    counts.filter((v) => v.labels.outcome === outcome).reduce((sum, v) => sum + v.value, 0)
  const accepted = count('accepted')
  const [streams, queueList, live] = await Promise.all([
    streamFigures(services),
    queueFigures(services, siteId),
    liveFigures(services.metrics),
  ])
  return {
    at: new Date(now).toISOString(),
    ingest: {
      accepted,
      rejected: count('rejected'),
      duplicate: count('duplicate'),
      ratePerSecond: ingestRate(services.metrics, accepted, now),
      averagePerSecond: accepted / Math.max(1, process.uptime()),
    },
    streams,
    queues: queueList,
    live,
  }
}

export type HealthResponse = Awaited<ReturnType<typeof health>>

const retryInput = z.object({
  queue: z.enum(HEALTH_QUEUES, { error: `expected one of: ${HEALTH_QUEUES.join(', ')}` }),
  /** One failed job; every failed job of the queue when absent. */
  jobId: z.string().min(1).max(200).optional(),
})

export function register(app: Hono<HonoEnv>): void {
  app.get('/v1/admin/health', async (c) => {
    const staff = await requireStaff(c)
    const figures = await health(c, staff.siteId)
    // Queues are shared by every site of the install: only admins see why jobs failed.
    if (staff.role !== 'admin') {
      for (const queue of figures.queues) {
        queue.latestFailed = []
      }
    }
    return c.json(figures)
  })

  app.post('/v1/admin/health/retry', async (c) => {
    const staff = await requireStaff(c, 'admin')
    const input = parseWith(retryInput, await readJsonBody(c, 16 * 1024))
    const services = c.get('services')
    const queue = queueOf(services, input.queue)
    // Only this site's jobs: another site's failures are not its staff's to retry.
    if (input.jobId !== undefined) {
      const job = await queue.getJob(input.jobId)
      if (!job || !concernsSite(job, staff.siteId) || !(await job.isFailed())) {
        throw new ApiError(
          'NOT_FOUND',
          `No failed job ${input.jobId} of your site in the ${input.queue} queue.`,
        )
      }
      await job.retry()
    } else {
      for (const job of await failedOf(queue, staff.siteId)) {
        await job.retry()
      }
    }
    await recordAudit(services.db, {
      siteId: staff.siteId,
      actor: staff.email,
      action: 'jobs.retry',
      subject: `queue:${input.queue}`,
      detail: { jobId: input.jobId ?? 'all failed' },
    })
    return c.json({ retried: input.jobId ?? 'all' })
  })
}
