/**
 * @module Reading the event log for `nudge replay`: `--from`/`--to` bounds as stream ids, and a
 * reader that merges the partitions' entries into one sequence in stream-id order, fetching each
 * partition in bounded XRANGE pages (at most one page per partition in memory).
 */
import type { Redis } from 'ioredis'

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i
const MAX_SEQ = 18_446_744_073_709_551_615n

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

/**
 * Orders two stream ids (-1, 0, 1) by milliseconds, then sequence.
 * @example compareIds('9-0', '10-0') // -1
 */
export function compareIds(a: string, b: string): number {
  const x = toId(a)
  const y = toId(b)
  return x.ms !== y.ms ? (x.ms < y.ms ? -1 : 1) : x.seq === y.seq ? 0 : x.seq < y.seq ? -1 : 1
}

function toId(id: string): StreamId {
  const [ms = '0', seq = '0'] = id.split('-')
  return { ms: BigInt(ms), seq: BigInt(seq) }
}

/** One entry of the log: its partition, id and events (JSON values, not yet validated). */
export type LogEntry = { partition: number; id: string; events: unknown[] }

/** Where to read one partition: from `next` (an id, or "(id" for after it) to `end`, inclusive. */
export type LogRange = { partition: number; stream: string; next: string; end: string }

/** Hands out entries of several partitions in stream-id order. */
export type LogReader = {
  /** Up to `size` entries, smallest id first; an empty array once every range is read. */
  next(size: number): Promise<LogEntry[]>
}

type Cursor = LogRange & { buffer: [string, string[]][]; exhausted: boolean }

/**
 * A reader over the ranges, fetching `pageSize` entries of a partition at a time.
 * @example const reader = createLogReader(redis, [{ partition: 0, stream: keys.events(0), next: '0-0', end: '+' }], 200)
 */
export function createLogReader(redis: Redis, ranges: LogRange[], pageSize: number): LogReader {
  const cursors: Cursor[] = ranges.map((range) => ({ ...range, buffer: [], exhausted: false }))
  return {
    async next(size) {
      const chunk: LogEntry[] = []
      while (chunk.length < size) {
        let best: Cursor | undefined
        for (const cursor of cursors) {
          if (cursor.buffer.length === 0 && !cursor.exhausted) {
            await refill(redis, cursor, pageSize)
          }
          const head = cursor.buffer[0]
          const bestHead = best?.buffer[0]
          if (
            head !== undefined &&
            (bestHead === undefined || compareIds(head[0], bestHead[0]) < 0)
          ) {
            best = cursor
          }
        }
        const entry = best?.buffer.shift()
        if (best === undefined || entry === undefined) {
          break
        }
        chunk.push({ partition: best.partition, id: entry[0], events: valuesOf(entry[1]) })
      }
      return chunk
    },
  }
}

async function refill(redis: Redis, cursor: Cursor, size: number): Promise<void> {
  // "0-0" is the end of an empty partition: no entry can have that id.
  if (cursor.end === '0-0' || compareIds(cursor.next.replace('(', ''), cursor.end) > 0) {
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

/**
 * The last entry id of a stream, or "0-0" when it is empty.
 * @example const end = await lastId(redis, keys.events(0))
 */
export async function lastId(redis: Redis, stream: string): Promise<string> {
  return (await redis.xrevrange(stream, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0'
}

/**
 * Exact entries in [start, end]: XLEN when the range covers the whole stream, else a counting
 * pass, which reads the range once more but costs far less than applying it.
 * @example const total = await countRange(redis, keys.events(0), '0-0', await lastId(redis, keys.events(0)))
 */
export async function countRange(redis: Redis, stream: string, start: string, end: string) {
  const first = (await redis.xrange(stream, '-', '+', 'COUNT', 1))[0]?.[0]
  const last = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1))[0]?.[0]
  if (first === undefined || last === undefined || compareIds(start, end) > 0) {
    return 0
  }
  if (compareIds(start, first) <= 0 && compareIds(end, last) >= 0) {
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
