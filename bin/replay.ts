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
import {
  compareIds,
  countRange,
  createLogReader,
  type LogRange,
  lastId,
  parseBound,
} from './replay-log'

/** What runReplayCommand needs; bin/nudge.ts builds it from the environment. */
export type ReplayDeps = {
  /** Called once the command line is valid, so `--help` and usage errors need no Redis. */
  connect: () => Promise<Redis>
  /** The live log: its key prefix and partition count. */
  config: Pick<Config, 'NUDGE_KEY_PREFIX' | 'NUDGE_PARTITIONS'>
  /** The workers' events processor (every step the live workers run) on the target's keys. */
  processorFor: (redis: Redis, keys: Keys) => (data: unknown) => Promise<unknown>
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

class UsageError extends Error {}

/**
 * The checkpoint's key: under the target prefix, so the target alone says how far it got.
 * @example checkpointKey('rebuild:') // 'rebuild:replay:checkpoint'
 */
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

async function replay(options: Options, deps: ReplayDeps): Promise<number> {
  const { out } = deps
  const redis = await deps.connect()
  const live = createKeys(deps.config.NUDGE_KEY_PREFIX)
  const partitions = deps.config.NUDGE_PARTITIONS
  const checkpoint = checkpointKey(options.into)
  const start = await startOrResume(redis, options, deps)
  if (start.status !== 'go') {
    out(`nudge replay: ${start.message}`)
    return start.status === 'finished' ? 0 : 1
  }
  const saved = start.checkpoint
  const ranges: LogRange[] = []
  for (let partition = 0; partition < partitions; partition++) {
    const at = saved[`at:${partition}`]
    ranges.push({
      partition,
      stream: live.events(partition),
      next: at === undefined ? options.from : `(${at}`,
      end: saved[`end:${partition}`] ?? '0-0',
    })
  }
  const chunkSize = deps.chunkSize ?? 200
  const reader = createLogReader(redis, ranges, chunkSize)
  const apply = deps.processorFor(redis, createKeys(options.into))
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
  for (
    let chunk = await reader.next(chunkSize);
    chunk.length > 0;
    chunk = await reader.next(chunkSize)
  ) {
    const positions: Record<string, string> = {}
    for (const entry of chunk) {
      const job = eventsJob.safeParse({ ...entry, entryId: entry.id, replay: true })
      if (job.success) {
        await apply(job.data)
        events += job.data.events.length
      } else {
        // What the live consumer would dead-letter: report it and go on.
        skipped++
        const issue = job.error.issues[0]
        const why = `${issue?.path.join('.')}: ${issue?.message}`
        progress.above(() =>
          out(`skipped entry ${entry.id} of partition ${entry.partition}: ${why}`),
        )
      }
      positions[`at:${entry.partition}`] = entry.id
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
  const unread = skipped > 0 ? `, ${skipped} unreadable entries skipped` : ''
  out(
    `Replayed ${formatCount(applied)} entries (${formatCount(events)} events this run${unread}) from "${live.prefix}" into "${options.into}" in ${seconds} s.`,
  )
  return 0
}

/**
 * The checkpoint to go on from: a new one (with each partition's end and the entry total fixed
 * now, so a log that keeps growing does not move the goal) when the target is empty, the saved
 * one when it records this same replay; otherwise why the target cannot be used.
 */
async function startOrResume(
  redis: Redis,
  options: Options,
  deps: ReplayDeps,
): Promise<
  | { status: 'go'; checkpoint: Record<string, string> }
  | { status: 'finished' | 'refused'; message: string }
> {
  const live = createKeys(deps.config.NUDGE_KEY_PREFIX)
  const partitions = deps.config.NUDGE_PARTITIONS
  const checkpoint = checkpointKey(options.into)
  const source = JSON.stringify({
    prefix: live.prefix,
    partitions,
    from: options.from,
    to: options.to,
  })
  const saved = await redis.hgetall(checkpoint)
  if (saved.source !== undefined) {
    if (saved.source !== source) {
      const was = JSON.parse(saved.source) as { prefix: string; from: string; to?: string }
      const to = was.to ? ` --to ${was.to}` : ''
      const message = `"${options.into}" holds a replay of "${was.prefix}" --from ${was.from}${to}; rerun with those options to resume it, or choose a fresh prefix.`
      return { status: 'refused', message }
    }
    if (saved.finished !== undefined) {
      const message = `"${options.into}" is already complete (${saved.applied} entries).`
      return { status: 'finished', message }
    }
    return { status: 'go', checkpoint: saved }
  }
  const stray = await firstKey(redis, `${options.into}*`)
  if (stray !== undefined) {
    const message = `--into "${options.into}" already holds keys (such as ${stray}) and no replay checkpoint. Choose a fresh prefix, or delete those keys first.`
    return { status: 'refused', message }
  }
  const fields: Record<string, string> = { source, applied: '0' }
  let total = 0
  for (let p = 0; p < partitions; p++) {
    const last = await lastId(redis, live.events(p))
    const end = options.to !== undefined && compareIds(options.to, last) < 0 ? options.to : last
    fields[`end:${p}`] = end
    total += await countRange(redis, live.events(p), options.from, end)
  }
  fields.total = String(total)
  await redis.hset(checkpoint, fields)
  return { status: 'go', checkpoint: fields }
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
