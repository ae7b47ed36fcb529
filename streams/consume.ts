/**
 * @module The consumer-group reader of the event log, on which the pump (and any other reader of
 * `events:{p}`) is built: read, parse, hand to a handler, acknowledge.
 *
 * Contract (each point is relied on by callers):
 * - At least once. An entry is XACKed only after the handler resolved for it; a crash between
 *   the handler's effects and the ack delivers it again. Handlers must be idempotent per event
 *   id (DESIGN "Nothing counts twice").
 * - Order of reading: the consumer's own pending entries (`0`) first, then new ones (`>`). New
 *   entries reach the handler as one batch. Pending ones are retries (of a failed batch, or
 *   reclaimed from a dead consumer) and reach it one entry per call, so a poison entry can
 *   neither hold back nor dead-letter its neighbours. Order across retries is not kept.
 * - Attempts are Redis's delivery counts, so they survive restarts and hand-overs. An entry is
 *   dead-lettered (XACK + XADD to `<stream>:dead` in one script) when it does not parse (at
 *   once), when a handler error says `retry: false` (STYLE 13; every entry of that call), when
 *   a single-entry call fails on delivery `maxAttempts`, or when it was delivered more than
 *   `maxAttempts` times without an ack (it keeps killing its consumer). A failed batch blames
 *   no entry, hence `maxAttempts` ≥ 2.
 * - Bounded: one batch in memory; retries wait `retryDelayMs`, doubling while they keep failing,
 *   capped at `claimIdleMs / 2` so waiting retries are never mistaken for a dead consumer's
 *   entries. After a failed batch the retries run before the next batch is read, so a failing
 *   handler sees one new batch per retry delay. Redis errors are logged and retried after a
 *   backoff capped at 5 s, never in a hot loop.
 * - Hand-over: every `claimIdleMs / 2` it claims entries idle over `claimIdleMs` (reclaim.ts),
 *   so a dead consumer's entries come back; a handler call must stay shorter than that.
 * - Shutdown: stop() (e.g. on SIGTERM) lets the in-flight handler call finish and be acked.
 */
import { readFileSync } from 'node:fs'
import type { Redis } from 'ioredis'
import type { Logger } from '../runtime/logger'
import { looksStored, type StoredEvent, storedEvent } from './events'
import { createKeys } from './keys'
import { reclaimIdle } from './reclaim'

const DEAD_LETTER = readFileSync(new URL('./scripts/dead-letter-2.lua', import.meta.url), 'utf8')

/** One stream entry: its id and its events in send order. */
export type ConsumedEntry = { streamId: string; events: StoredEvent[] }

/** Options of {@link createConsumer}; durations in milliseconds. */
export type ConsumerOptions = {
  /** Fail-fast client for reads of own pending entries, XACK, XPENDING and dead-lettering. */
  redis: Redis
  /** A connection of its own (createBlockingRedis) for `XREADGROUP BLOCK`. */
  blocking: Redis
  stream: string
  group: string
  /** Unique among the live consumers of the group, and stable across restarts if possible. */
  consumer: string
  /** Where a group created here starts: '0' = the whole log (default), '$' = only new. */
  startId?: string
  /** Entries per handler call (default 100). */
  batchSize?: number
  /** Longest park on XREADGROUP BLOCK (default 1000); also bounds how late stop() may be. */
  blockMs?: number
  /** Deliveries before an entry is dead-lettered (default 5, at least 2). */
  maxAttempts?: number
  /** Entries idle this long are reclaimed (default 30000); keep it above any handler call. */
  claimIdleMs?: number
  /** First wait before retrying failed entries (default 1000). */
  retryDelayMs?: number
  /** Approximate cap on the dead-letter stream (default 100000). */
  deadLetterMaxLen?: number
  /**
   * Throw to retry; throw an error with `retry: false` to dead-letter every entry passed.
   * `retry` is true for an entry read again from the consumer's pending entries (a retry of a
   * failed call, or an entry of a dead consumer or of this one before a restart): a handler
   * that has effects per batch (see workers/pump.ts) finds out there what an earlier call did.
   */
  handler: (entries: ConsumedEntry[], call: { retry: boolean }) => Promise<void>
  /** Called with the ids of entries just acknowledged after their handler call resolved. */
  acked?: (ids: string[]) => void
  logger?: Logger
}

/** A running consumer. */
export type Consumer = {
  /** Loops until stop(); resolves then. Never rejects for Redis or handler errors. */
  run(): Promise<void>
  /** Lets the in-flight handler call finish and be acknowledged, then resolves. */
  stop(): Promise<void>
}

type RawEntry = { id: string; fields: string[] | null }
type DeadLetterClient = Redis & {
  nudgeDeadLetter(stream: string, dead: string, ...args: (string | number)[]): Promise<string>
}

const MAX_REASON = 1000
const MAX_REDIS_BACKOFF_MS = 5000

/**
 * Creates a consumer of one stream in one group (created with MKSTREAM when missing).
 * @example
 * const consumer = createConsumer({
 *   redis, blocking, stream: keys.events(0), group: GROUPS.pipeline, consumer: 'pump-1',
 *   handler: async (entries) => { await queue.addBulk(toJobs(entries)) },
 * })
 * process.once('SIGTERM', () => void consumer.stop())
 * await consumer.run()
 */
export function createConsumer(opts: ConsumerOptions): Consumer {
  const { redis, blocking, stream, group, consumer, handler } = opts
  const batchSize = opts.batchSize ?? 100
  const blockMs = opts.blockMs ?? 1000
  const maxAttempts = opts.maxAttempts ?? 5
  const claimIdleMs = opts.claimIdleMs ?? 30_000
  const retryDelayMs = opts.retryDelayMs ?? 1000
  if (maxAttempts < 2) {
    throw new RangeError('maxAttempts must be at least 2: a failed batch blames no single entry')
  }
  const maxRetryDelayMs = Math.max(retryDelayMs, Math.floor(claimIdleMs / 2))
  const startId = opts.startId ?? '0'
  // The dead-letter name derives from the stream's alone (same hash tag), not from a prefix.
  const deadKey = createKeys('').deadLetter(stream)
  const deadMaxLen = opts.deadLetterMaxLen ?? 100_000
  const janitor = { redis, stream, group, consumer, minIdleMs: claimIdleMs, count: batchSize }
  const log = opts.logger?.child({ stream, group, consumer })
  const scripts = withScript(redis)

  let running: Promise<void> | undefined
  let stopping = false
  let blockingId: number | undefined
  let wake: (() => void) | undefined

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        wake = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      wake = done
    })

  async function deadLetter(id: string, attempts: number, reason: string): Promise<void> {
    const args = [group, id, attempts, reason, deadMaxLen]
    const deadId = await scripts.nudgeDeadLetter(stream, deadKey, ...args)
    // An empty id: another consumer settled the entry first, so there is nothing to report.
    if (deadId) {
      log?.warn({ entryId: id, deadId, attempts, reason }, 'entry dead-lettered')
    }
  }

  /** Handles one call's worth of entries; true when each is acked or dead-lettered. */
  async function handle(raw: RawEntry[], deliveries: number, retry: boolean): Promise<boolean> {
    const entries: ConsumedEntry[] = []
    for (const { id, fields } of raw) {
      if (fields === null) {
        await redis.xack(stream, group, id)
      } else if (deliveries > maxAttempts) {
        await deadLetter(id, deliveries, `delivered ${deliveries} times without an ack`)
      } else {
        const parsed = parseEntry(id, fields)
        if (typeof parsed === 'string') {
          await deadLetter(id, deliveries, parsed)
        } else {
          entries.push(parsed)
        }
      }
    }
    if (entries.length === 0) {
      return true
    }
    try {
      await handler(entries, { retry })
    } catch (error) {
      const single = entries.length === 1
      const message = messageOf(error)
      if (isPermanent(error) || (single && deliveries >= maxAttempts)) {
        const reason = single ? `attempt ${deliveries}/${maxAttempts}: ${message}` : message
        for (const entry of entries) {
          await deadLetter(entry.streamId, deliveries, reason)
        }
        return true
      }
      log?.warn({ err: error, entries: entries.length, deliveries }, 'handler failed; will retry')
      return false
    }
    const ids = entries.map((e) => e.streamId)
    await redis.xack(stream, group, ...ids)
    opts.acked?.(ids)
    return true
  }

  /** Reads up to `count` entries after `from` (`>` = new ones, blocking up to `blockFor`). */
  async function read(client: Redis, count: number, from: string, blockFor?: number) {
    const block = blockFor === undefined ? [] : ['BLOCK', blockFor]
    const args = ['GROUP', group, consumer, 'COUNT', count, ...block, 'STREAMS', stream, from]
    return entriesOf(await client.call('XREADGROUP', ...args))
  }

  async function loop(): Promise<void> {
    let groupReady = false
    let reclaimAt = 0
    let sweepAt = 0
    let sweepFrom: string | null = null
    let sweepFailed = false
    let failedSweeps = 0
    let holdNew = false
    let redisErrors = 0
    const retryDelay = () => Math.min(retryDelayMs * 2 ** failedSweeps, maxRetryDelayMs)
    while (!stopping) {
      try {
        if (!groupReady) {
          await redis.xgroup('CREATE', stream, group, startId, 'MKSTREAM').catch(unlessBusyGroup)
          blockingId = Number(await blocking.client('ID'))
          groupReady = true
        }
        const now = Date.now()
        // Between sweeps only, so that claimed entries are picked up by the next sweep.
        if (sweepFrom === null && now >= reclaimAt) {
          reclaimAt = now + Math.max(1, Math.floor(claimIdleMs / 2))
          const found = await reclaimIdle(janitor)
          if (found.claimed > 0 || found.deleted > 0) {
            log?.info(found, 'reclaimed idle entries')
            sweepAt = now
          }
        }
        if (sweepFrom === null && now >= sweepAt) {
          sweepFrom = '0'
          sweepFailed = false
        }
        if (sweepFrom !== null) {
          // One entry per read: reading own history counts a delivery, so each counts one try.
          const [raw] = await read(redis, 1, sweepFrom)
          if (raw === undefined) {
            sweepFrom = null
            holdNew = false
            failedSweeps = sweepFailed ? failedSweeps + 1 : 0
            sweepAt = sweepFailed ? Date.now() + retryDelay() : Number.POSITIVE_INFINITY
          } else {
            sweepFrom = raw.id
            sweepFailed = !(await handle([raw], await deliveriesOf(raw.id), true)) || sweepFailed
          }
        } else if (holdNew) {
          await pause(Math.max(1, Math.min(sweepAt, reclaimAt) - now))
        } else {
          const waitMs = Math.max(1, Math.min(blockMs, sweepAt - now, reclaimAt - now))
          const raw = await read(blocking, batchSize, '>', waitMs)
          if (raw.length > 0 && !(await handle(raw, 1, false))) {
            holdNew = true
            sweepAt = Math.min(sweepAt, Date.now() + retryDelay())
          }
        }
        redisErrors = 0
      } catch (error) {
        redisErrors++
        groupReady = groupReady && !messageOf(error).startsWith('NOGROUP')
        log?.error({ err: error, redisErrors }, 'consumer loop failed; backing off')
        // Whatever the failed step left pending (say, handled but not acked) is swept again.
        sweepFrom = null
        sweepAt = Math.min(sweepAt, Date.now() + retryDelay())
        await pause(Math.min(100 * 2 ** (redisErrors - 1), MAX_REDIS_BACKOFF_MS))
      }
    }
  }

  async function deliveriesOf(id: string): Promise<number> {
    const rows = (await redis.xpending(stream, group, id, id, 1, consumer)) as unknown[][]
    // Not ours any more (reclaimed by another consumer meanwhile): count this one delivery.
    return Number(rows[0]?.[3] ?? 1)
  }

  return {
    run() {
      if (running) {
        throw new Error(`consumer ${consumer} is already running`)
      }
      running = loop()
      return running
    },
    async stop() {
      stopping = true
      wake?.()
      if (blockingId !== undefined) {
        // Ends a parked XREADGROUP as a timeout (nothing delivered) instead of waiting blockMs.
        await redis.client('UNBLOCK', blockingId).catch(() => undefined)
      }
      await running
    },
  }
}

/** The entry's events, or why it cannot be consumed. */
function parseEntry(id: string, fields: string[]): ConsumedEntry | string {
  const events: StoredEvent[] = []
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] ?? ''
    let json: unknown
    try {
      json = JSON.parse(fields[i + 1] ?? '')
    } catch {
      return `event ${name}: not JSON`
    }
    let event: StoredEvent
    if (looksStored(json)) {
      event = json
    } else {
      const result = storedEvent.safeParse(json)
      if (!result.success) {
        const issues = result.error.issues.slice(0, 3)
        const detail = issues.map((s) => `${s.path.join('.') || '(root)'}: ${s.message}`)
        return `event ${name}: ${detail.join('; ')}`
      }
      event = result.data
    }
    if (event.id !== name) {
      return `event ${name}: field name and event id ${event.id} differ`
    }
    events.push(event)
  }
  return { streamId: id, events }
}

/** Entries of a single-stream XREADGROUP reply; deleted entries come back with null fields. */
function entriesOf(reply: unknown): RawEntry[] {
  const list = Array.isArray(reply) && Array.isArray(reply[0]) ? reply[0][1] : undefined
  if (!Array.isArray(list)) {
    return []
  }
  return list.map((item: unknown) => {
    const [id, fields] = item as [string, string[] | null]
    return { id: String(id), fields: Array.isArray(fields) ? fields.map(String) : null }
  })
}

/** An existing group is what MKSTREAM creation wants anyway. */
function unlessBusyGroup(error: unknown): void {
  if (!messageOf(error).startsWith('BUSYGROUP')) {
    throw error
  }
}

function isPermanent(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'retry' in error && error.retry === false
}

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.length > MAX_REASON ? `${message.slice(0, MAX_REASON)}…` : message
}

function withScript(redis: Redis): DeadLetterClient {
  const client = redis as DeadLetterClient
  if (typeof client.nudgeDeadLetter !== 'function') {
    redis.defineCommand('nudgeDeadLetter', { numberOfKeys: 2, lua: DEAD_LETTER })
  }
  return client
}
