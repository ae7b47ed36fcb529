/**
 * @module The pipeline bench's producer, as its own process so its CPU is not the workers'.
 *
 * `--mode log` appends each request with the real `appendEvents` (the call the api makes, with
 * its dedup script) straight into `events:{p}`: the same entries an api would write, without
 * HTTP and validation, which bench:ingest measures and which would take CPU from the two cores
 * the pump, the processors and Redis share here. `--mode naive` adds one BullMQ job per event
 * (no log, no pump: the naive design at its cheapest) for bench/pipeline-naive.ts.
 *
 * `--loop open` sends on a fixed schedule (`--rate` events/s), whatever the pipeline does, so a
 * pipeline that cannot keep up shows as growing backlog. `--loop closed` keeps the backlog
 * (appended but not yet processed, pipeline-backlog.ts) under `--backlog` events, polled every
 * 50 ms, its window opening once the backlog has filled: the pipeline's capacity at a bounded
 * lag. Each request is stamped with `receivedAt` when
 * sent, as the api does. Prints protocol lines (protocol.ts): start, end, a result, then
 * `{ event: 'total', events }`: every event it got accepted, warm-up and stragglers included.
 *
 * Usage: node --import tsx bench/pipeline-producer.ts --prefix bench:abcd: --mode log|naive
 *   --loop open|closed [--rate 20000] [--backlog 20000] [--events-per-request 20]
 *   [--shoppers 10000] [--partitions 8] [--warmup 3] [--duration 10]
 */
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { loadConfig } from '../runtime/config'
import { eventsJobOptions } from '../streams/jobs'
import { createKeys } from '../streams/keys'
import { appendEvents, type EventLog } from '../streams/produce'
import { latencyOf } from './measure'
import { type BacklogTarget, readBacklog } from './pipeline-backlog'
import { createTraffic, type Request } from './pipeline-traffic'
import { emit, type LoadResult, sleep, whenParentGone } from './protocol'

const { values } = parseArgs({
  options: {
    prefix: { type: 'string' },
    mode: { type: 'string', default: 'log' },
    loop: { type: 'string', default: 'closed' },
    rate: { type: 'string', default: '20000' },
    backlog: { type: 'string', default: '20000' },
    'events-per-request': { type: 'string', default: '20' },
    shoppers: { type: 'string', default: '10000' },
    partitions: { type: 'string', default: '8' },
    'naive-queue': { type: 'string', default: 'naive-events' },
    warmup: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
  },
})

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = values.prefix ?? `bench:producer${process.pid}:`
const mode = values.mode === 'naive' ? 'naive' : 'log'
const loop = values.loop === 'open' ? 'open' : 'closed'
const partitions = Number(values.partitions)
const eventsPerRequest = Number(values['events-per-request'])
const backlogBound = Number(values.backlog)
const warmupMs = Number(values.warmup) * 1000
const durationMs = Number(values.duration) * 1000
/** Requests in flight at most; past it an open loop falls behind (and says so: offered vs sent). */
const MAX_IN_FLIGHT = 256

// The same retention and dedup window as a deployed api, from the same defaults.
const config = loadConfig({ NUDGE_KEY_PREFIX: prefix, NUDGE_PARTITIONS: String(partitions) })
const keys = createKeys(prefix)
const log: EventLog = {
  keys,
  partitions,
  retentionMs: config.NUDGE_RETENTION,
  dedupWindowMs: config.NUDGE_DEDUP_WINDOW,
}
const redis = new Redis(REDIS_URL, { connectionName: 'nudge-bench-producer' })
const poller = new Redis(REDIS_URL, { connectionName: 'nudge-bench-producer-poll' })
const traffic = createTraffic({
  eventsPerRequest,
  shoppers: Number(values.shoppers),
  partitions,
  tag: `${process.pid.toString(36)}${Date.now().toString(36)}`,
})
const naiveQueue =
  mode === 'naive'
    ? new Queue(values['naive-queue'] ?? 'naive-events', {
        connection: redis,
        prefix: `${prefix}bull`,
      })
    : undefined
const target: BacklogTarget =
  mode === 'naive'
    ? {
        streams: [],
        group: 'pipeline',
        queue: `${prefix}bull:${values['naive-queue']}`,
        eventsPerEntry: 1,
      }
    : {
        streams: Array.from({ length: partitions }, (_, p) => keys.events(p)),
        group: 'pipeline',
        queue: `${prefix}bull:events`,
        eventsPerEntry: eventsPerRequest,
      }

let inFlight = 0
let measuring = false
let stopping = false
/** Events sent since the last backlog poll (closed loop): they are backlog the poll missed. */
let sentSincePoll = 0
let backlog = 0
/** Events accepted over the whole run, warm-up and stragglers included: what the pipeline gets. */
let acceptedTotal = 0
const stats = {
  requests: 0,
  events: 0,
  duplicates: 0,
  offered: 0,
  errors: {} as Record<string, number>,
  samples: [] as number[],
}

/**
 * The real design's retry and retention options, with a count of 20,000 completed jobs: what
 * the real design kept before its jobs grew past one log entry. Keeping 400,000 one-event jobs
 * would make the naive design pay for memory the real one does not.
 */
const NAIVE_JOB_OPTIONS = {
  ...eventsJobOptions(1),
  removeOnComplete: { age: 900, count: 20_000 },
}

async function write(request: Request): Promise<number> {
  if (naiveQueue) {
    await naiveQueue.addBulk(
      request.events.map((event) => ({
        name: 'event',
        data: JSON.parse(event.json) as Record<string, unknown>,
        opts: NAIVE_JOB_OPTIONS,
      })),
    )
    return 0
  }
  const { duplicateIds } = await appendEvents(redis, log, request.events, Date.now())
  return duplicateIds.length
}

async function sendOne(): Promise<void> {
  const request = traffic.next(Date.now())
  inFlight += 1
  sentSincePoll += request.events.length
  const started = performance.now()
  let duplicates = 0
  let failure: string | undefined
  try {
    duplicates = await write(request)
  } catch (err) {
    failure = (err as NodeJS.ErrnoException).code ?? (err as Error).message.split(' ')[0] ?? 'error'
  } finally {
    inFlight -= 1
  }
  if (failure === undefined) {
    acceptedTotal += request.events.length - duplicates
  }
  if (!measuring) {
    return
  }
  if (failure !== undefined) {
    stats.errors[failure] = (stats.errors[failure] ?? 0) + 1
    return
  }
  stats.requests += 1
  stats.events += request.events.length - duplicates
  stats.duplicates += duplicates
  stats.samples.push(performance.now() - started)
}

/** Open loop: requests fall due every 1/rate s and are sent then, unless MAX_IN_FLIGHT are out. */
function openLoop(): void {
  const intervalMs = (1000 * eventsPerRequest) / Number(values.rate)
  let dueAt = performance.now()
  const tick = () => {
    const now = performance.now()
    while (dueAt <= now && !stopping && inFlight < MAX_IN_FLIGHT) {
      if (measuring) {
        stats.offered += 1
      }
      void sendOne()
      dueAt += intervalMs
    }
    // Past MAX_IN_FLIGHT the schedule keeps running: the shortfall shows as offered > sent.
    while (dueAt <= now && !stopping) {
      if (measuring) {
        stats.offered += 1
      }
      dueAt += intervalMs
    }
    if (!stopping) {
      setTimeout(tick, 1)
    }
  }
  tick()
}

/** Closed loop: sends while the backlog (as last polled, plus what was sent since) is under the bound. */
function closedLoop(): void {
  const poll = async () => {
    while (!stopping) {
      const sent = sentSincePoll
      try {
        backlog = (await readBacklog(poller, target)).events
        sentSincePoll -= sent
      } catch (err) {
        process.stderr.write(`pipeline-producer: backlog poll failed: ${String(err)}\n`)
      }
      await sleep(50)
    }
  }
  void poll()
  const tick = () => {
    while (!stopping && inFlight < MAX_IN_FLIGHT && backlog + sentSincePoll < backlogBound) {
      void sendOne()
    }
    if (!stopping) {
      setTimeout(tick, 1)
    }
  }
  tick()
}

async function main(): Promise<void> {
  whenParentGone(() => process.exit(0))
  if (naiveQueue) {
    await naiveQueue.waitUntilReady()
  }
  if (loop === 'open') {
    openLoop()
  } else {
    closedLoop()
  }
  await sleep(warmupMs)
  if (loop === 'closed') {
    // The window opens once the backlog has filled (at most a minute later): while it fills, the
    // producer's own writes compete with the workers for Redis and would lower what they do.
    const deadline = performance.now() + 60_000
    while (backlog < 0.9 * backlogBound && performance.now() < deadline) {
      await sleep(50)
    }
  }
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  measuring = true
  emit({ event: 'start' })
  await sleep(durationMs)
  measuring = false
  stopping = true
  const seconds = (performance.now() - start) / 1000
  const cpu = process.cpuUsage(cpuStart)
  emit({ event: 'end' })
  const result: LoadResult = {
    event: 'result',
    seconds,
    requests: stats.requests,
    events: stats.events,
    duplicates: stats.duplicates,
    rejected: 0,
    errors: stats.errors,
    eventsPerSecond: stats.events / seconds,
    requestsPerSecond: stats.requests / seconds,
    ...(loop === 'open' ? { offered: stats.offered } : {}),
    latencyMs: latencyOf(stats.samples),
    cpuMs: (cpu.user + cpu.system) / 1000,
  }
  emit(result)
  const deadline = performance.now() + 5_000
  while (inFlight > 0 && performance.now() < deadline) {
    await sleep(10)
  }
  process.stdout.write(`${JSON.stringify({ event: 'total', events: acceptedTotal })}\n`)
  await naiveQueue?.close()
  redis.disconnect()
  poller.disconnect()
  process.exit(0)
}

main().catch((err: unknown) => {
  process.stderr.write(
    `pipeline-producer: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  )
  process.exit(1)
})
