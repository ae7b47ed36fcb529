/**
 * @module The real pipeline `npm run eval:recs` measures, in this process: the api served on a
 * loopback port, the workers (pump + events worker + maintenance) as `startWorkers` runs them,
 * a fresh site, its own Redis key prefix `eval:<random>:` and its own PostgreSQL schema (or an
 * embedded PGlite in a temporary directory when PostgreSQL is not there). Data goes in through
 * `runImportCommand` with the site secret and recommendations come out of the HTTP read API, so
 * what is measured is what a store would get.
 *
 * `close` undoes everything in reverse order (workers, server, keys, schema, directories) and
 * is safe to call at any point of `startEvalPipeline`, also after a failure half-way.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Queue } from 'bullmq'
import { Client } from 'pg'
import { startApi } from '../api/main'
import { recommendationsResponse } from '../api/routes/recommendations.get'
import { runImportCommand } from '../bin/import'
import { createDb, type DbHandle } from '../drizzle/client'
import { createSite } from '../drizzle/queries/sites'
import { loadConfig } from '../runtime/config'
import { createLogger } from '../runtime/logger'
import { createMetrics } from '../runtime/metrics'
import { createBlockingRedis, createRedis, type Redis, waitReady } from '../runtime/redis'
import { ephemeralServerKeys } from '../runtime/secret-key'
import { createKeys, GROUPS, type Keys, QUEUES } from '../streams/keys'
import { bullPrefix, startWorkers } from '../workers/main'

export type EvalPipelineOptions = {
  redisUrl: string
  /** PostgreSQL to make a throw-away schema in; PGlite in a temporary directory if unreachable. */
  databaseUrl: string
  /** Aborted on Ctrl-C or the run's time limit: waits stop early, `close` still runs. */
  signal: AbortSignal
  /** Progress notes for stderr. */
  note: (line: string) => void
}

export type EvalPipeline = {
  prefix: string
  siteId: string
  /** Where the site lives: `postgres schema eval_…` or `PGlite <dir>`. */
  database: string
  redis: Redis
  keys: Keys
  /** Imports a CSV with the site secret (user_id is the proven userId); throws unless all went in. */
  importCsv(file: string, checkpoint: string): Promise<string>
  /** Resolves once the pipeline group and the events queue have nothing left; throws at the deadline. */
  drain(timeoutMs: number): Promise<{ failedJobs: number }>
  /** The personal list the read API gives a proven user, or undefined on a 404. */
  personal(user: string, limit: number): Promise<string[] | undefined>
  close(): Promise<void>
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

/** The eval writes and deletes keys and schemas: it refuses anything but this machine. */
export function assertLoopback(name: string, url: string): void {
  let host: string
  try {
    host = new URL(url).hostname
  } catch {
    throw new Error(`${name} is not a URL: ${url}`)
  }
  if (!LOOPBACK.has(host)) {
    throw new Error(`${name} must point at this machine (127.0.0.1), got host "${host}"`)
  }
}

/**
 * Boots the pipeline; on failure, whatever was made is removed before the error propagates.
 * @example const pipeline = await startEvalPipeline(opts); try { … } finally { await pipeline.close() }
 */
export async function startEvalPipeline(opts: EvalPipelineOptions): Promise<EvalPipeline> {
  assertLoopback('REDIS_URL', opts.redisUrl)
  assertLoopback('DATABASE_URL', opts.databaseUrl)
  const prefix = `eval:${randomBytes(4).toString('hex')}:`
  const cleanups: { name: string; run: () => Promise<unknown> }[] = []
  const close = async () => {
    while (cleanups.length > 0) {
      const step = cleanups.pop()
      await step?.run().catch((err: unknown) => {
        opts.note(`eval: cleanup "${step.name}" failed (prefix ${prefix}): ${String(err)}`)
      })
    }
  }
  try {
    const config = loadConfig({
      REDIS_URL: opts.redisUrl,
      HOST: '127.0.0.1',
      PORT: '0',
      NUDGE_KEY_PREFIX: prefix,
      NUDGE_DEMO: 'false',
      LOG_LEVEL: 'silent',
      // A backfill runs as fast as the api takes it; the limiter still runs, never says 429.
      NUDGE_RATE_SITE: '10000000',
      NUDGE_RATE_SITE_BURST: '100000000',
      NUDGE_RATE_IP: '10000000',
      NUDGE_RATE_IP_BURST: '100000000',
    })
    const redis = createRedis(opts.redisUrl, {
      commandTimeoutMs: config.NUDGE_REDIS_TIMEOUT,
      name: 'nudge-eval',
    })
    // Errors surface as failed commands, which fail the run; the event would only add noise.
    redis.on('error', () => {})
    cleanups.push({ name: 'redis', run: async () => redis.disconnect() })
    await waitReady(redis, 5_000)
    // Registered before anything writes a key, so a failure half-way still removes them all.
    cleanups.push({ name: 'keys', run: () => deleteKeys(redis, prefix) })

    const { handle, database } = await openDatabase(opts, cleanups)
    const { site, secret } = await createSite(handle.db, {
      name: `Eval store ${prefix}`,
      allowedOrigins: [],
    })
    const logger = createLogger({ level: 'silent', role: 'eval' })
    const api = await startApi({
      config,
      logger,
      metrics: createMetrics({ defaults: false }),
      redis,
      db: handle.db,
      serverKeys: ephemeralServerKeys(),
      readiness: {},
    })
    cleanups.push({ name: 'api', run: () => api.close() })
    const workers = await startWorkers({
      config,
      logger,
      redis,
      redisUrl: opts.redisUrl,
      db: handle.db,
    })
    cleanups.push({ name: 'workers', run: () => workers.close() })
    const queueConnection = createBlockingRedis(opts.redisUrl, 'nudge-eval-queue')
    const queue = new Queue(QUEUES.events, {
      connection: queueConnection,
      prefix: bullPrefix(config),
    })
    cleanups.push({
      name: 'queue',
      run: async () => {
        await queue.close()
        queueConnection.disconnect()
      },
    })

    const url = `http://127.0.0.1:${api.port}`
    const keys = createKeys(prefix)
    const auth = `Basic ${Buffer.from(`${secret}:`).toString('base64')}`
    return {
      prefix,
      siteId: site.id,
      database,
      redis,
      keys,
      async importCsv(file, checkpoint) {
        const lines: string[] = []
        const args = [file, '--url', url, '--key', secret, '--format', 'csv']
        const code = await runImportCommand([...args, '--checkpoint', checkpoint], {
          out: (line) => lines.push(line),
          progress: process.stderr,
          signal: opts.signal,
        })
        if (code !== 0) {
          throw new Error(`nudge import exited with ${code}:\n${lines.join('\n')}`)
        }
        return lines.at(-1) ?? ''
      },
      drain: (timeoutMs) => drain(redis, keys, config.NUDGE_PARTITIONS, queue, timeoutMs, opts),
      async personal(user, limit) {
        const query = new URLSearchParams({
          kind: 'personal',
          profile: `u:${user}`,
          limit: `${limit}`,
        })
        if (opts.signal.aborted) {
          throw new Error('stopped before every list was read')
        }
        // A timeout per request rather than the run's signal: fetch keeps a listener on the
        // signal it is given, and thousands of requests would pile them up on one.
        const res = await fetch(`${url}/v1/recommendations?${query}`, {
          headers: { authorization: auth },
          signal: AbortSignal.timeout(30_000),
        })
        if (res.status === 404) {
          await res.body?.cancel()
          return undefined
        }
        if (res.status !== 200) {
          throw new Error(`GET /v1/recommendations answered ${res.status}: ${await res.text()}`)
        }
        return recommendationsResponse.parse(await res.json()).items.map((i) => i.productId)
      },
      close,
    }
  } catch (err) {
    await close()
    throw err
  }
}

/** A fresh schema on the local PostgreSQL, else PGlite in a temporary directory (~20 s to create). */
async function openDatabase(
  opts: EvalPipelineOptions,
  cleanups: { name: string; run: () => Promise<unknown> }[],
): Promise<{ handle: DbHandle; database: string }> {
  const schema = `eval_${randomBytes(6).toString('hex')}`
  if (await reachable(opts.databaseUrl)) {
    // Registered first, so a schema left half-migrated by a failing createDb is dropped too.
    cleanups.push({ name: 'schema', run: () => dropSchema(opts.databaseUrl, schema) })
    const handle = await createDb({ databaseUrl: opts.databaseUrl, dataDir: tmpdir(), schema })
    cleanups.push({ name: 'database', run: () => handle.close() })
    return { handle, database: `PostgreSQL schema ${schema} (dropped at the end)` }
  }
  const dir = await mkdtemp(join(tmpdir(), 'nudge-eval-pglite-'))
  cleanups.push({ name: 'pglite dir', run: () => rm(dir, { recursive: true, force: true }) })
  opts.note(`eval: no PostgreSQL at ${opts.databaseUrl}; creating an embedded PGlite in ${dir}`)
  const handle = await createDb({ dataDir: dir })
  cleanups.push({ name: 'database', run: () => handle.close() })
  return { handle, database: `PGlite in ${dir} (deleted at the end)` }
}

async function reachable(databaseUrl: string): Promise<boolean> {
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2_000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.end()
    return true
  } catch {
    return false
  }
}

/** On its own connection, so it works after the pool closed. */
async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    await client.query(`drop schema if exists "${schema}" cascade`)
  } finally {
    await client.end()
  }
}

/** SCAN + UNLINK every key under the prefix (BullMQ's keys are under it too). */
async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    if (found.length > 0) {
      await redis.unlink(...found)
    }
  } while (cursor !== '0')
}

/**
 * Polls until every partition's `pipeline` group has read and acknowledged its whole stream
 * and the events queue holds no job waiting or running. Streams are checked before the queue:
 * the pump adds a slice's job before it acknowledges the slice, so once the group is clear
 * every job for it is already in the queue, and an empty queue then means processed.
 */
async function drain(
  redis: Redis,
  keys: Keys,
  partitions: number,
  queue: Queue,
  timeoutMs: number,
  opts: EvalPipelineOptions,
): Promise<{ failedJobs: number }> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const left = await backlog(redis, keys, partitions, queue)
    if (left.length === 0) {
      return { failedJobs: await queue.getJobCountByTypes('failed') }
    }
    if (Date.now() > deadline || opts.signal.aborted) {
      throw new Error(`the pipeline did not drain within ${timeoutMs} ms: ${left.join('; ')}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

async function backlog(
  redis: Redis,
  keys: Keys,
  partitions: number,
  queue: Queue,
): Promise<string[]> {
  const read = redis.pipeline()
  for (let p = 0; p < partitions; p++) {
    read.xlen(keys.events(p))
    read.call('XINFO', 'GROUPS', keys.events(p))
  }
  const replies = (await read.exec()) ?? []
  const left: string[] = []
  for (let p = 0; p < partitions; p++) {
    const length = Number(replies[2 * p]?.[1] ?? 0)
    const [error, groups] = replies[2 * p + 1] ?? [null, []]
    // A stream nobody wrote to does not exist: XINFO errors, and there is nothing to wait for.
    const info = error ? undefined : groupInfo(groups, GROUPS.pipeline)
    if (length === 0) {
      continue
    }
    if (!info) {
      left.push(`partition ${p}: no ${GROUPS.pipeline} group yet`)
      continue
    }
    const pending = Number(info.get('pending') ?? 0)
    const lag = info.get('lag')
    // Redis reports lag as nil when it cannot tell; then compare entries read with the length.
    const unread =
      lag === null || lag === undefined
        ? Math.max(0, length - Number(info.get('entries-read') ?? 0))
        : Number(lag)
    if (pending > 0 || unread > 0) {
      left.push(`partition ${p}: ${unread} unread, ${pending} pending`)
    }
  }
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'paused')
  for (const [state, count] of Object.entries(counts)) {
    if (count > 0) {
      left.push(`queue ${QUEUES.events}: ${count} ${state}`)
    }
  }
  return left
}

function groupInfo(reply: unknown, name: string): Map<string, unknown> | undefined {
  for (const raw of Array.isArray(reply) ? reply : []) {
    if (!Array.isArray(raw)) {
      continue
    }
    const info = new Map<string, unknown>()
    for (let i = 0; i + 1 < raw.length; i += 2) {
      info.set(String(raw[i]), raw[i + 1])
    }
    if (info.get('name') === name) {
      return info
    }
  }
  return undefined
}
