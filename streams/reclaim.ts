/**
 * @module The janitor of a consumer group: hands entries that a consumer took but never
 * acknowledged (it crashed, hung or was scaled away) to a live consumer, with `XAUTOCLAIM`.
 *
 * Claimed entries become the claiming consumer's own pending entries, which it reads back with
 * `XREADGROUP … 0` (see consume.ts). Claims use `JUSTID`, so they do not count as deliveries:
 * the delivery count rises only when the entry is read back, i.e. when a handler really gets it.
 */
import type { Redis } from 'ioredis'

/** What one janitor pass did. */
export type ReclaimResult = {
  /** Entries now pending for the claiming consumer. */
  claimed: number
  /** Pending entries whose stream entry was gone (trimmed or deleted), now acknowledged. */
  deleted: number
}

/** Options of {@link reclaimIdle}. */
export type ReclaimOptions = {
  redis: Redis
  stream: string
  group: string
  /** Receives the claimed entries. */
  consumer: string
  /**
   * Only entries idle at least this long are taken. Must exceed the longest handler call, or a
   * live consumer's in-flight entries are taken too and handled twice.
   */
  minIdleMs: number
  /** At most this many entries are claimed per call, so one pass stays one batch in size. */
  count: number
  /** At most this many XAUTOCLAIM calls per pass (each scans up to 10 × count entries). */
  maxRounds?: number
}

/**
 * Claims up to `count` entries idle for `minIdleMs` or longer, from any consumer of the group
 * (the caller's own included, which is harmless), and acknowledges the pending ids whose entries
 * no longer exist. Redis 7 already drops those ids from the pending list as it reports them, so
 * the XACK is normally a no-op; it keeps "nothing stays pending" from resting on that detail.
 * @example
 * const { claimed } = await reclaimIdle({
 *   redis, stream: keys.events(0), group: GROUPS.pipeline, consumer: 'pump-1', minIdleMs: 30_000, count: 100,
 * })
 */
export async function reclaimIdle(opts: ReclaimOptions): Promise<ReclaimResult> {
  const maxRounds = opts.maxRounds ?? 10
  let cursor = '0-0'
  let claimed = 0
  let deleted = 0
  for (let round = 0; round < maxRounds && claimed < opts.count; round++) {
    const reply = await opts.redis.xautoclaim(
      opts.stream,
      opts.group,
      opts.consumer,
      opts.minIdleMs,
      cursor,
      'COUNT',
      opts.count - claimed,
      'JUSTID',
    )
    // The third element (deleted ids) exists since Redis 7.0.
    const [next, ids, gone] = reply as [string, string[], string[] | undefined]
    claimed += ids.length
    if (gone && gone.length > 0) {
      await opts.redis.xack(opts.stream, opts.group, ...gone)
      deleted += gone.length
    }
    cursor = String(next)
    if (cursor === '0-0') {
      break
    }
  }
  return { claimed, deleted }
}
