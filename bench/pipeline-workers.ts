/**
 * @module The workers process under test: the real `startWorkers` (pump on every partition, the
 * events processor with recommendations and exactly-once profiles, maintenance with stream
 * trimming and profile snapshots) as deployed, with a key prefix of its own and an embedded
 * PGlite in a temporary directory (what `nudge start --role workers` opens without
 * DATABASE_URL). Nothing of the bench runs inside it: the orchestrator reads its CPU and RSS
 * from /proc and its progress from Redis.
 *
 * Prints `{ event: 'ready', pid, prefix, startupMs }` when it is taking jobs. On SIGTERM, SIGINT or
 * when the orchestrator goes away it closes the workers and the database and deletes its data
 * directory; the orchestrator deletes the keys. With an IPC channel, `{ profile: 'start' }` and
 * `{ profile: 'stop', file }` write a CPU profile of just that span (`--cpu-prof` would also
 * capture start-up, which here is mostly opening PGlite).
 *
 * Usage: node --import tsx bench/pipeline-workers.ts --prefix bench:abcd: [--partitions 8]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { createDb } from '../drizzle/client'
import { loadConfig } from '../runtime/config'
import { createRedis, waitReady } from '../runtime/redis'
import { startWorkers } from '../workers/main'
import { whenParentGone } from './protocol'

const { values } = parseArgs({
  options: {
    prefix: { type: 'string' },
    partitions: { type: 'string', default: '8' },
  },
})
const started = performance.now()
const prefix = values.prefix ?? `bench:workers${process.pid}:`
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
// Everything else (concurrency, stalled-job and claim timeouts, retention) as the environment
// says, else at its defaults, as `nudge start --role workers` would read it.
const config = loadConfig({
  ...process.env,
  REDIS_URL: redisUrl,
  NUDGE_KEY_PREFIX: prefix,
  NUDGE_PARTITIONS: values.partitions,
  LOG_LEVEL: 'warn',
})
// stdout carries the bench protocol, so logs go to stderr; warnings only (failed jobs).
const logger = pino({ level: config.LOG_LEVEL, base: { role: 'workers' } }, pino.destination(2))
const redis = createRedis(redisUrl, {
  commandTimeoutMs: config.NUDGE_REDIS_TIMEOUT,
  name: 'nudge-bench-workers',
})

/** Undone in reverse order on the way out; each added once the thing it undoes exists. */
const cleanups: (() => Promise<unknown>)[] = [async () => redis.disconnect()]
let stopping = false

async function stop(code: number): Promise<void> {
  if (stopping) {
    return
  }
  stopping = true
  // Whatever happens below, the process ends: a stuck step must not keep it alive.
  setTimeout(() => process.exit(code || 1), 20_000).unref()
  for (const cleanup of cleanups.reverse()) {
    await cleanup().catch((err: unknown) => {
      process.stderr.write(`pipeline-workers: cleanup failed: ${String(err)}\n`)
    })
  }
  process.exit(code)
}

async function start(): Promise<void> {
  await waitReady(redis, 5_000)
  const dataDir = await mkdtemp(join(tmpdir(), 'nudge-bench-workers-'))
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
  const database = await createDb({ dataDir })
  cleanups.push(() => database.close())
  const workers = await startWorkers({ config, logger, redis, redisUrl, db: database.db })
  cleanups.push(() => workers.close())
  const ready = { event: 'ready', pid: process.pid, prefix, startupMs: performance.now() - started }
  process.stdout.write(`${JSON.stringify(ready)}\n`)
}

const profiler = new Session()
process.on('message', (message: { profile?: 'start' | 'stop'; file?: string }) => {
  void (async () => {
    if (message.profile === 'start') {
      profiler.connect()
      await profiler.post('Profiler.enable')
      await profiler.post('Profiler.setSamplingInterval', { interval: 200 })
      await profiler.post('Profiler.start')
    } else if (message.profile === 'stop' && message.file) {
      const { profile } = await profiler.post('Profiler.stop')
      profiler.disconnect()
      await writeFile(message.file, JSON.stringify(profile))
      process.stdout.write(`${JSON.stringify({ event: 'profile', file: message.file })}\n`)
    }
  })()
})

const stopCleanly = () => {
  void stop(0)
}
process.on('SIGTERM', stopCleanly)
process.on('SIGINT', stopCleanly)
whenParentGone(stopCleanly)

start().catch(async (err: unknown) => {
  process.stderr.write(
    `pipeline-workers: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  )
  await stop(1)
})
