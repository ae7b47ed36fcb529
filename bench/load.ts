/**
 * @module The load generator, as its own process so its CPU is not the api's: POSTs OTTO-derived
 * batches to /v1/events over keep-alive HTTP/1.1 connections (one request in flight on each,
 * see http-client.ts), either closed-loop (C requests always in flight: throughput)
 * or open-loop at a fixed rate (latency measured from when each request was due, so a stalled
 * server is not hidden by the generator waiting for it). Prints protocol lines (protocol.ts).
 *
 * Usage: node --import tsx bench/load.ts --url http://127.0.0.1:3000 --write-key wk_… \
 *   [--mode closed|open] [--concurrency 16] [--rate 2500] [--warmup 3] [--duration 10]
 */
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { type Connection, connect, requestHead } from './http-client'
import { latencyOf } from './measure'
import { bodyTemplates, buildBatches, fill, loadSample } from './otto'
import { BENCH_ORIGIN, emit, type LoadResult, sleep, whenParentGone } from './protocol'

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    'write-key': { type: 'string' },
    mode: { type: 'string', default: 'closed' },
    concurrency: { type: 'string', default: '16' },
    rate: { type: 'string', default: '2500' },
    'batch-size': { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
  },
})

const target = new URL(values.url ?? 'http://127.0.0.1:3000')
const writeKey = values['write-key'] ?? ''
const mode = values.mode === 'open' ? 'open' : 'closed'
const concurrency = Number(values.concurrency)
const rate = Number(values.rate)
const warmupMs = Number(values.warmup) * 1000
const durationMs = Number(values.duration) * 1000

const templates = bodyTemplates(
  buildBatches(loadSample(), Number(values['batch-size']), Date.now()),
)
const head = requestHead('POST', '/v1/events', target.host, {
  'Content-Type': 'application/json',
  Authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
  Origin: BENCH_ORIGIN,
})
const tagBase = `${process.pid.toString(36)}.`
/** Open loop: at most this many connections; later requests wait (their latency counts). */
const MAX_CONNECTIONS = 1024

type Outcome = { status: number; accepted: number; duplicates: number; rejected: number }

let sequence = 0
let inFlight = 0
let measuring = false
let stopping = false

const stats = {
  requests: 0,
  events: 0,
  duplicates: 0,
  rejected: 0,
  offered: 0,
  errors: {} as Record<string, number>,
  samples: [] as number[],
}

async function post(connection: Connection, body: string): Promise<Outcome> {
  const answer = await connection.request(head, body)
  if (answer.status !== 200) {
    return { status: answer.status, accepted: 0, duplicates: 0, rejected: 0 }
  }
  const counts = JSON.parse(answer.body.toString('utf8')) as {
    accepted: number
    duplicates: number
    rejected: unknown[]
  }
  return {
    status: answer.status,
    accepted: counts.accepted,
    duplicates: counts.duplicates,
    rejected: counts.rejected.length,
  }
}

/** Sends the next batch with fresh event ids; counts it when it completes inside the window. */
async function sendOne(connection: Connection, dueAt: number): Promise<void> {
  const template = templates[sequence % templates.length]
  sequence += 1
  if (!template) {
    return
  }
  const body = fill(template.body, tagBase + sequence.toString(36))
  inFlight += 1
  let outcome: Outcome | undefined
  let failure: string | undefined
  try {
    outcome = await post(connection, body)
  } catch (err) {
    failure =
      (err as NodeJS.ErrnoException).code ?? (err instanceof SyntaxError ? 'bad-answer' : 'network')
  } finally {
    inFlight -= 1
  }
  if (!measuring) {
    return
  }
  if (failure !== undefined || (outcome && outcome.status !== 200)) {
    const key = failure ?? String(outcome?.status)
    stats.errors[key] = (stats.errors[key] ?? 0) + 1
    return
  }
  if (outcome) {
    stats.requests += 1
    stats.events += outcome.accepted
    stats.duplicates += outcome.duplicates
    stats.rejected += outcome.rejected
    stats.samples.push(performance.now() - dueAt)
  }
}

const connections: Connection[] = []

function newConnection(): Connection {
  const connection = connect(target.hostname, Number(target.port))
  connections.push(connection)
  return connection
}

async function closedLoop(): Promise<void> {
  const connection = newConnection()
  while (!stopping) {
    await sendOne(connection, performance.now())
  }
}

function openLoop(): void {
  const interval = 1000 / rate
  const idle: Connection[] = []
  /** Due times of requests waiting for a connection, oldest first. */
  const waiting: number[] = []
  const run = (connection: Connection, dueAt: number) => {
    void sendOne(connection, dueAt).then(() => {
      const next = waiting.shift()
      if (next !== undefined && !stopping) {
        run(connection, next)
      } else {
        idle.push(connection)
      }
    })
  }
  let dueAt = performance.now()
  const tick = () => {
    const now = performance.now()
    // Catch up after a late timer: requests are due on schedule whether or not we were awake.
    while (dueAt <= now && !stopping) {
      if (measuring) {
        stats.offered += 1
      }
      const connection =
        idle.pop() ?? (connections.length < MAX_CONNECTIONS ? newConnection() : undefined)
      if (connection) {
        run(connection, dueAt)
      } else {
        waiting.push(dueAt)
      }
      dueAt += interval
    }
    if (!stopping) {
      setTimeout(tick, 1)
    }
  }
  tick()
}

async function main(): Promise<void> {
  whenParentGone(() => process.exit(0))

  if (mode === 'closed') {
    for (let i = 0; i < concurrency; i++) {
      void closedLoop()
    }
  } else {
    openLoop()
  }

  await sleep(warmupMs)
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
    rejected: stats.rejected,
    errors: stats.errors,
    eventsPerSecond: stats.events / seconds,
    requestsPerSecond: stats.requests / seconds,
    ...(mode === 'open' ? { offered: stats.offered } : {}),
    latencyMs: latencyOf(stats.samples),
    cpuMs: (cpu.user + cpu.system) / 1000,
  }
  emit(result)

  const deadline = performance.now() + 3_000
  while (inFlight > 0 && performance.now() < deadline) {
    await sleep(10)
  }
  for (const connection of connections) {
    connection.close()
  }
  process.exit(0)
}

main().catch((err: unknown) => {
  process.stderr.write(`load: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
