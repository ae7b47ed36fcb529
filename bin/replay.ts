/**
 * @module `nudge replay`: rebuilds profiles and recommendations from the event log into fresh
 * keys, by handing every entry of a range straight to the workers' events processor built on
 * the target prefix. No queue, no consumer group, and never an offer (`replay: true`).
 *
 * Order: entries are applied one at a time in stream-id order across all partitions (a k-way
 * merge), which is the order the api stored them in and the closest to what the live workers
 * saw; it matters only where one profile reads another (the merge on login).
 * Resuming: after each chunk the last applied id of every partition is saved in a checkpoint
 * under the target prefix. A crash mid-chunk re-applies that chunk, which changes nothing,
 * because applying is idempotent per event id.
 * Exit codes: 0 done, 1 refused or failed, 2 the command line is wrong, 130 interrupted.
 */
import { parseArgs } from 'node:util'
import type { Redis } from 'ioredis'
import type { Config } from '../runtime/config'
import { eventsJob } from '../streams/jobs'
import { createKeys, type Keys } from '../streams/keys'
import { createProgress, formatCount, type ProgressOutput } from './progress'

/** What runReplayCommand needs; bin/nudge.ts builds it from the environment. */
export type ReplayDeps = {
  redis: Redis
  /** The live log: its key prefix and partition count. */
  config: Pick<Config, 'NUDGE_KEY_PREFIX' | 'NUDGE_PARTITIONS'>
  /** The workers' events processor (every step the live workers run) on other keys. */
  processorFor: (keys: Keys) => (data: unknown) => Promise<unknown>
  out: (line: string) => void
  /** Where the progress bar goes (process.stderr). */
  progress: ProgressOutput
  /** Aborted on SIGINT/SIGTERM: the chunk in flight is finished and checkpointed first. */
  signal?: AbortSignal
  /** Entries per XRANGE read and per checkpoint (default 200). */
  chunkSize?: number
  /** Called after each checkpoint with the chunk's number (1, 2, …). */
  onChunk?: (chunk: number) => void
}

export const REPLAY_USAGE = `Usage: nudge replay --from <time|id> [--to <time|id>] --into <prefix>

Rebuilds profiles and recommendations from the event log (NUDGE_KEY_PREFIX, NUDGE_PARTITIONS)
into fresh keys under <prefix>. Sends no offers. Interrupted? Run the same command again: it
resumes from the checkpoint kept under <prefix>.

Options:
  --from <time|id>   first entry: ISO 8601 time (UTC unless it has an offset), epoch
                     milliseconds, or a stream id such as 1714521600000-0; 0 = the whole log
  --to <time|id>     last entry, inclusive (default: the end of the log when the replay began)
  --into <prefix>    key prefix to rebuild into: not the live prefix, and empty unless this
                     replay is being resumed
  -h, --help         show this help

Times select entries by when the api stored them, not by the events' own timestamps.`

const PREFIX = /^[A-Za-z0-9:_-]{1,32}$/
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i
const MAX_SEQ = 18_446_744_073_709_551_615n

class UsageError extends Error {}

/** A stream id as numbers, so ids compare correctly (as strings "9-0" > "10-0"). */
type StreamId = { ms: bigint; seq: bigint }

/**
 * Reads `--from`/`--to`: ISO time, epoch ms or a stream id. A bare time means the first id of
 * that millisecond as a start and the last one as an end, so both bounds are inclusive.
 * @example parseBound('2024-05-01T00:00:00Z', 'start') // '1714521600000-0'
 */
export function parseBound(text: string, side: 'start' | 'end'): string | undefined {
  const value = text.trim()
  const id = /^(\d{1,15})-(\d{1,20})$/.exec(value)
  if (id) {
    return BigInt(id[2] ?? '0') <= MAX_SEQ ? value : undefined
  }
  let ms: number
  if (/^\d{1,15}$/.test(value)) {
    ms = Number(value)
  } else if (ISO.test(value)) {
    const zoned = /[T ]/.test(value) && !/(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? `${value}Z` : value
    ms = Date.parse(zoned.replace(' ', 'T'))
  } else {
    return undefined
  }
  if (!Number.isFinite(ms) || ms < 0) {
    return undefined
  }
  return side === 'start' ? `${ms}-0` : `${ms}-${MAX_SEQ}`
}

/** @example compareIds('9-0', '10-0') // -1 */
export function compareIds(a: string, b: string): number {
  const x = toId(a)
  const y = toId(b)
  return x.ms !== y.ms ? (x.ms < y.ms ? -1 : 1) : x.seq === y.seq ? 0 : x.seq < y.seq ? -1 : 1
}

function toId(id: string): StreamId {
  const [ms = '0', seq = '0'] = id.split('-')
  return { ms: BigInt(ms), seq: BigInt(seq) }
}

/** The checkpoint's key: under the target prefix, so the target alone says how far it got. */
export function checkpointKey(into: string): string {
  return `${into}replay:checkpoint`
}

type Options = { from: string; to: string | undefined; into: string }

/**
 * Runs `nudge replay` and returns the exit code. Messages go to `deps.out`, the bar to
 * `deps.progress`. Redis and processor failures are not caught: they are not the user's mistake.
 * @example process.exitCode = await runReplayCommand(['--from', '0', '--into', 'rebuild:'], deps)
 */
export async function runReplayCommand(args: string[], deps: ReplayDeps): Promise<number> {
  let options: Options | undefined
  try {
    options = parseCommandLine(args, deps.config.NUDGE_KEY_PREFIX)
  } catch (err) {
    if (err instanceof UsageError) {
      deps.out(`nudge replay: ${err.message}\n\n${REPLAY_USAGE}`)
      return 2
    }
    throw err
  }
  if (options === undefined) {
    deps.out(REPLAY_USAGE)
    return 0
  }
  return replay(options, deps)
}

function parseCommandLine(args: string[], live: string): Options | undefined {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        into: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
  if (values.help === true) {
    return undefined
  }
  const { from, to, into } = values
  if (typeof from !== 'string' || typeof into !== 'string') {
    throw new UsageError('--from and --into are required')
  }
  const start = parseBound(from, 'start')
  if (start === undefined) {
    throw new UsageError(
      `--from "${from}" is not an ISO time, epoch milliseconds or a stream id (1714521600000-0)`,
    )
  }
  const end = typeof to === 'string' ? parseBound(to, 'end') : undefined
  if (typeof to === 'string' && end === undefined) {
    throw new UsageError(
      `--to "${to}" is not an ISO time, epoch milliseconds or a stream id (1714521600000-0)`,
    )
  }
  if (end !== undefined && compareIds(start, end) > 0) {
    throw new UsageError(`--to ${to} is before --from ${from}`)
  }
  if (!PREFIX.test(into)) {
    throw new UsageError('--into expects 1 to 32 letters, digits, ":", "_" or "-" (e.g. rebuild:)')
  }
  if (into === live) {
    throw new UsageError(`--into must differ from the live key prefix "${live}"`)
  }
  if (live.startsWith(into)) {
    throw new UsageError(
      `--into "${into}" would hold the live keys (prefix "${live}"); choose a prefix the live one does not start with`,
    )
  }
  return { from: start, to: end, into }
}

type Cursor = {
  partition: number
  stream: string
  /** Next XRANGE start: an inclusive id, or "(id" after the last one read. */
  next: string
  end: string
  buffer: [string, string[]][]
  exhausted: boolean
}

async function replay(options: Options, deps: ReplayDeps): Promise<number> {
  const { redis, out } = deps
  const live = createKeys(deps.config.NUDGE_KEY_PREFIX)
  const partitions = deps.config.NUDGE_PARTITIONS
  const checkpoint = checkpointKey(options.into)
  const source = JSON.stringify({ prefix: live.prefix, partitions, ...options, into: undefined })
  const saved = await redis.hgetall(checkpoint)

  if (saved.source === undefined) {
    const [, found] = await redis.scan('0', 'MATCH', `${options.into}*`, 'COUNT', 1000)
    const stray = found[0] ?? (await firstKey(redis, `${options.into}*`))
    if (stray !== undefined) {
      out(
        `nudge replay: --into "${options.into}" already holds keys (such as ${stray}) and no replay checkpoint. Choose a fresh prefix, or delete those keys first.`,
      )
      return 1
    }
    const fields: Record<string, string> = { source, done: '0', total: '0', applied: '0' }
    let total = 0
    for (let p = 0; p < partitions; p++) {
      const last = await redis.xrevrange(live.events(p), '+', '-', 'COUNT', 1)
      const lastId = last[0]?.[0] ?? '0-0'
      const end = options.to !== undefined && compareIds(options.to, lastId) < 0 ? options.to : lastId
      fields[`end:${p}`] = end
      total += await countRange(redis, live.events(p), options.from, end)
    }
    fields.total = String(total)
    await redis.hset(checkpoint, fields)
    Object.assign(saved, fields)
  } else if (saved.source !== source) {
    const was = JSON.parse(saved.source) as { prefix: string; from: string; to?: string }
    out(
      `nudge replay: "${options.into}" holds a replay of "${was.prefix}" --from ${was.from}${was.to ? ` --to ${was.to}` : ''}; rerun with those options to resume it, or choose a fresh prefix.`,
    )
    return 1
  } else if (saved.finished !== undefined) {
    out(`nudge replay: "${options.into}" is already complete (${saved.applied} entries).`)
    return 0
  }

  const cursors: Cursor[] = []
  for (let p = 0; p < partitions; p++) {
    const at = saved[`at:${p}`]
    const end = saved[`end:${p}`] ?? '0-0'
    const next = at === undefined ? options.from : `(${at}`
    cursors.push({ partition: p, stream: live.events(p), next, end, buffer: [], exhausted: false })
  }
  const process = deps.processorFor(createKeys(options.into))
  const chunkSize = deps.chunkSize ?? 200
  const total = Number(saved.total)
  let applied = Number(saved.applied)
  const progress = createProgress({
    out: deps.progress,
    total,
    startDone: applied,
    countUnit: 'entries',
    doneUnit: 'entries',
  })
  const started = Date.now()
  let events = 0
  let skipped = 0
  let chunks = 0
  progress.update(applied)
  for (;;) {
    const chunk = await nextChunk(redis, cursors, chunkSize)
    if (chunk.length === 0) {
      break
    }
    const positions: Record<string, string> = {}
    for (const { partition, id, fields } of chunk) {
      const job = eventsJob.safeParse({
        partition,
        entryId: id,
        events: valuesOf(fields),
        replay: true,
      })
      if (job.success) {
        await process(job.data)
        events += job.data.events.length
      } else {
        skipped++
        progress.above(() => out(`skipped entry ${id} of partition ${partition}: ${job.error.issues[0]?.message}`))
      }
      positions[`at:${partition}`] = id
    }
    applied += chunk.length
    await redis.multi().hset(checkpoint, positions).hset(checkpoint, 'applied', applied).exec()
    chunks++
    progress.update(applied)
    deps.onChunk?.(chunks)
    if (deps.signal?.aborted) {
      progress.finish()
      out(
        `Interrupted after ${formatCount(applied)} of ${formatCount(total)} entries; run the same command again to resume.`,
      )
      return 130
    }
  }
  await redis.hset(checkpoint, 'finished', new Date().toISOString())
  progress.finish()
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  out(
    `Replayed ${formatCount(applied)} entries (${formatCount(events)} events this run${skipped > 0 ? `, ${skipped} unreadable entries skipped` : ''}) from "${live.prefix}" into "${options.into}" in ${seconds} s.`,
  )
  return 0
}

/** Up to `size` entries, smallest id first across partitions; reads each partition lazily. */
async function nextChunk(redis: Redis, cursors: Cursor[], size: number) {
  const chunk: { partition: number; id: string; fields: string[] }[] = []
  while (chunk.length < size) {
    let best: Cursor | undefined
    for (const cursor of cursors) {
      if (cursor.buffer.length === 0 && !cursor.exhausted) {
        await refill(redis, cursor, size)
      }
      const head = cursor.buffer[0]
      const bestHead = best?.buffer[0]
      if (head !== undefined && (bestHead === undefined || compareIds(head[0], bestHead[0]) < 0)) {
        best = cursor
      }
    }
    const entry = best?.buffer.shift()
    if (best === undefined || entry === undefined) {
      break
    }
    chunk.push({ partition: best.partition, id: entry[0], fields: entry[1] })
  }
  return chunk
}

async function refill(redis: Redis, cursor: Cursor, size: number): Promise<void> {
  if (compareIds(cursor.next.replace('(', ''), cursor.end) > 0 || cursor.end === '0-0') {
    cursor.exhausted = true
    return
  }
  const entries = await redis.xrange(cursor.stream, cursor.next, cursor.end, 'COUNT', size)
  cursor.buffer = entries
  cursor.exhausted = entries.length < size
  const last = entries[entries.length - 1]
  if (last !== undefined) {
    cursor.next = `(${last[0]}`
  }
}

/** Exact entries in [start, end]: XLEN when the range covers the stream, else a counting pass. */
async function countRange(redis: Redis, stream: string, start: string, end: string) {
  const first = (await redis.xrange(stream, '-', '+', 'COUNT', 1))[0]?.[0]
  if (first === undefined || end === '0-0') {
    return 0
  }
  if (compareIds(start, first) <= 0) {
    return redis.xlen(stream)
  }
  let count = 0
  let from = start
  for (;;) {
    const entries = await redis.xrange(stream, from, end, 'COUNT', 1000)
    count += entries.length
    const last = entries[entries.length - 1]
    if (last === undefined || entries.length < 1000) {
      return count
    }
    from = `(${last[0]}`
  }
}

async function firstKey(redis: Redis, pattern: string): Promise<string | undefined> {
  let cursor = '0'
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    if (found[0] !== undefined) {
      return found[0]
    }
    cursor = next
  } while (cursor !== '0')
  return undefined
}

/** An entry's values are its events' JSON (fields are their ids); unreadable JSON stays a string. */
function valuesOf(fields: string[]): unknown[] {
  const values: unknown[] = []
  for (let i = 1; i < fields.length; i += 2) {
    try {
      values.push(JSON.parse(fields[i] ?? ''))
    } catch {
      values.push(fields[i])
    }
  }
  return values
}
