/**
 * @module The naive design the pipeline is measured against, as its own workers process: one
 * BullMQ job per event, and a processor that makes one awaited Redis round trip per update.
 * It lives in bench/ only; nothing in the product runs it.
 *
 * Per event it does the profile's updates one command at a time (dedup marker, counts, first
 * and last seen, decayed score and interest read then written, recent list and its cap,
 * purchases, the dirty mark) and the recommendations' (the shopper's history read, item weight,
 * trending global and per category, both directions of every co-occurrence pair from the same
 * pure domain code the real processor uses). It does less than the real processor — no
 * personal list, no pair normalisation, no trending decay or caps, and its dedup is not atomic
 * with the updates — so the ratio against it flatters the naive design, not the real one.
 *
 * Prints `{ event: 'ready', pid }` when taking jobs; closes its worker on SIGTERM, SIGINT or
 * when the orchestrator goes away. The orchestrator deletes the keys.
 *
 * Usage: node --import tsx bench/pipeline-naive.ts --prefix bench:abcd: [--concurrency 16]
 *   [--queue naive-events]
 */
import { parseArgs } from 'node:util'
import { type Job, UnrecoverableError, Worker } from 'bullmq'
import { createBlockingRedis, createRedis, waitReady } from '../runtime/redis'
import { type StoredEvent, storedEvent } from '../streams/events'
import { createKeys } from '../streams/keys'
import { recentEvent } from '../streams/profile'
import {
  fromRecent,
  INTERACTION_WEIGHT,
  interactionsOf,
  pairsFor,
} from '../workers/domain/co-occurrence'
import { DEFAULT_WEIGHTS, profileDelta } from '../workers/domain/profile-delta'
import { PROFILE_LIMITS, profileOf } from '../workers/processors/profile'
import { REC_LIMITS } from '../workers/processors/recommendations'
import { whenParentGone } from './protocol'

const { values } = parseArgs({
  options: {
    prefix: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    queue: { type: 'string', default: 'naive-events' },
  },
})
const prefix = values.prefix ?? `bench:naive${process.pid}:`
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const keys = createKeys(prefix)
// The same two kinds of connection the real workers use: fail-fast for work, blocking for BullMQ.
const redis = createRedis(redisUrl, { commandTimeoutMs: 800, name: 'nudge-bench-naive' })
const workerConnection = createBlockingRedis(redisUrl, 'nudge-bench-naive-worker')

/** Adds `weight` at time `t` to a decayed sum stored as (value, value@), read then written. */
async function decayedAdd(key: string, field: string, t: number, weight: number): Promise<void> {
  const [value, ref] = await redis.hmget(key, field, `${field}@`)
  const halfLife = DEFAULT_WEIGHTS.halfLifeMs
  let next = weight
  let nextRef = t
  if (value !== null && ref !== null) {
    const v = Number(value)
    const r = Number(ref)
    next =
      t >= r ? v * 2 ** (-(t - r) / halfLife) + weight : v + weight * 2 ** (-(r - t) / halfLife)
    nextRef = Math.max(t, r)
  }
  await redis.hset(key, field, next, `${field}@`, nextRef)
}

async function applyProfile(event: StoredEvent, profile: string): Promise<boolean> {
  const delta = profileDelta(event, DEFAULT_WEIGHTS)
  const hash = keys.profile(profile)
  if ((await redis.zadd(keys.profileApplied(profile), 'NX', event.receivedAt, event.id)) === 0) {
    return false
  }
  await redis.hincrby(hash, 'n', 1)
  await redis.hincrby(hash, `n:${event.type}`, 1)
  const [first, last] = await redis.hmget(hash, 'first', 'last')
  if (first === null || event.ts < Number(first)) {
    await redis.hset(hash, 'first', event.ts)
  }
  if (last === null || event.ts > Number(last)) {
    await redis.hset(hash, 'last', event.ts)
  }
  if (delta.score !== 0) {
    await decayedAdd(hash, 'score', event.ts, delta.score)
    if (delta.category !== undefined) {
      await decayedAdd(
        keys.profileInterests(profile),
        delta.category,
        event.ts,
        Math.abs(delta.score),
      )
    }
  }
  await redis.zadd(keys.profileRecent(profile), event.ts, JSON.stringify(delta.recent))
  await redis.zremrangebyrank(keys.profileRecent(profile), 0, -(PROFILE_LIMITS.recentCap + 1))
  for (const item of delta.bought) {
    await redis.zadd(keys.profileBought(profile), event.ts, item)
    await redis.hincrby(hash, 'purchases', 1)
  }
  await redis.sadd(keys.profilesDirty(), profile)
  return true
}

async function applyRecommendations(event: StoredEvent, profile: string): Promise<void> {
  const fresh = interactionsOf(event)
  if (fresh.length === 0) {
    return
  }
  // The shopper's history as the real step reads it; the newest entry is this event itself.
  const recent = await redis.zrevrange(keys.profileRecent(profile), 1, REC_LIMITS.recentRead)
  const history = recent.flatMap((json) => {
    const parsed = recentEvent.safeParse(JSON.parse(json))
    const interaction = parsed.success ? fromRecent(parsed.data) : undefined
    return interaction ? [interaction] : []
  })
  const site = event.siteId
  const category = 'category' in event.props ? event.props.category : undefined
  for (const { item, kind } of fresh) {
    const weight = INTERACTION_WEIGHT[kind]
    await redis.hincrby(keys.recItem(site, item), 'n', weight)
    await redis.zincrby(keys.recTrending(site), weight, item)
    if (typeof category === 'string') {
      await redis.zincrby(keys.recTrending(site, category), weight, item)
    }
  }
  for (const { a, b, weight } of pairsFor(history, fresh)) {
    await redis.zincrby(keys.recNeighbours(site, a), weight, b)
    await redis.zincrby(keys.recNeighbours(site, b), weight, a)
  }
}

async function processNaive(job: Job): Promise<{ applied: number }> {
  const parsed = storedEvent.safeParse(job.data)
  if (!parsed.success) {
    throw new UnrecoverableError(`event does not match the contract: ${parsed.error.message}`)
  }
  const event = parsed.data
  const profile = profileOf(event)
  if (!(await applyProfile(event, profile))) {
    return { applied: 0 }
  }
  await applyRecommendations(event, profile)
  return { applied: 1 }
}

async function main(): Promise<void> {
  await waitReady(redis, 5_000)
  const worker = new Worker(values.queue ?? 'naive-events', processNaive, {
    connection: workerConnection,
    prefix: `${prefix}bull`,
    concurrency: Number(values.concurrency),
  })
  worker.on('error', (err) => process.stderr.write(`pipeline-naive: ${err.message}\n`))
  await worker.waitUntilReady()
  let stopping = false
  const stop = () => {
    if (stopping) {
      return
    }
    stopping = true
    setTimeout(() => process.exit(1), 15_000).unref()
    void worker
      .close()
      .catch(() => undefined)
      .then(() => {
        workerConnection.disconnect()
        redis.disconnect()
        process.exit(0)
      })
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  whenParentGone(stop)
  process.stdout.write(`${JSON.stringify({ event: 'ready', pid: process.pid })}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(
    `pipeline-naive: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  )
  process.exit(1)
})
