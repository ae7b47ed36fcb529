/**
 * @module The api under test, as its own process: the real startApi with real Redis, an embedded
 * PGlite holding a site of its own, a key prefix of its own and rate limits high enough never to
 * throttle the bench. `--no-append` switches appends off (parse + validate only). Prints
 * `{ port, writeKey, pid, prefix }` as one JSON line when ready; on SIGTERM, SIGINT or when the
 * orchestrator goes away it deletes its keys (and its data directory, if it made it) and exits.
 *
 * A fresh PGlite takes ~20 s to initialise here and an existing one ~3 s to open, so the
 * orchestrator passes one `--data-dir` to every server of a run (one at a time, as PGlite
 * requires) and deletes it at the end; without it the server makes and deletes a temporary one.
 *
 * With an IPC channel, `{ profile: 'start' }` and `{ profile: 'stop', file }` messages write a
 * CPU profile of just that span to `file`.
 *
 * Usage: node --import tsx bench/api-server.ts [--no-append] [--prefix bench:abcd:] [--data-dir D]
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startApi } from '../api/main'
import { createDb } from '../drizzle/client'
import { createSite } from '../drizzle/queries/sites'
import { loadConfig } from '../runtime/config'
import { createLogger } from '../runtime/logger'
import { createMetrics } from '../runtime/metrics'
import { createRedis, waitReady } from '../runtime/redis'
import { ephemeralServerKeys } from '../runtime/secret-key'
import { BENCH_ORIGIN, deleteKeys, type ServerReady, whenParentGone } from './protocol'

const { values } = parseArgs({
  options: {
    'no-append': { type: 'boolean', default: false },
    prefix: { type: 'string' },
    'data-dir': { type: 'string' },
  },
})
const prefix = values.prefix ?? `bench:${randomBytes(4).toString('hex')}:`
const config = loadConfig({
  ...process.env,
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  HOST: '127.0.0.1',
  PORT: '0',
  NUDGE_KEY_PREFIX: prefix,
  LOG_LEVEL: 'silent',
  NUDGE_DEMO: 'false',
  // Far above what one process can take, so the limiter runs on every request but never says 429.
  NUDGE_RATE_SITE: '10000000',
  NUDGE_RATE_SITE_BURST: '100000000',
  NUDGE_RATE_IP: '10000000',
  NUDGE_RATE_IP_BURST: '100000000',
})
const redis = createRedis(config.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  commandTimeoutMs: config.NUDGE_REDIS_TIMEOUT,
  name: 'nudge-bench-api',
})

/** Undone in reverse order on the way out; each step is added once the thing it undoes exists. */
const cleanups: (() => Promise<unknown>)[] = [
  async () => redis.disconnect(),
  () => deleteKeys(redis, prefix),
]
let stopping = false

async function stop(code: number): Promise<void> {
  if (stopping) {
    return
  }
  stopping = true
  // Whatever happens below, the process ends: a stuck step must not keep it alive.
  setTimeout(() => process.exit(code || 1), 15_000).unref()
  for (const cleanup of cleanups.reverse()) {
    await cleanup().catch((err: unknown) => {
      process.stderr.write(`api-server: cleanup failed (prefix ${prefix}): ${String(err)}\n`)
    })
  }
  process.exit(code)
}

async function start(): Promise<void> {
  await waitReady(redis, 5_000)
  let dataDir = values['data-dir']
  if (dataDir === undefined) {
    const made = await mkdtemp(join(tmpdir(), 'nudge-bench-'))
    cleanups.push(() => rm(made, { recursive: true, force: true }))
    dataDir = made
  }
  const database = await createDb({ dataDir })
  cleanups.push(() => database.close())
  const { writeKey } = await createSite(database.db, {
    name: `Bench store ${prefix}`,
    allowedOrigins: [BENCH_ORIGIN],
  })
  const api = await startApi({
    config,
    logger: createLogger({ level: config.LOG_LEVEL, role: 'api' }),
    metrics: createMetrics({ defaults: true }),
    redis,
    db: database.db,
    serverKeys: ephemeralServerKeys(),
    readiness: { database: () => database.ping() },
    dryRun: values['no-append'],
  })
  cleanups.push(() => api.close())
  const ready: ServerReady = { port: api.port, writeKey, pid: process.pid, prefix }
  process.stdout.write(`${JSON.stringify(ready)}\n`)
}

/**
 * CPU profiling of the measured window only, on the orchestrator's word: `--cpu-prof` would
 * also capture start-up (module loading, opening PGlite), which here outweighs the window.
 */
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
    `api-server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  )
  await stop(1)
})
