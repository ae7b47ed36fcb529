/**
 * @module Retention of the event log that never drops what a consumer group still needs.
 *
 * `trimPartition` computes the partition's floor — the oldest entry any group still needs: its
 * oldest pending entry, else its last-delivered id (entries after it are undelivered) — stores
 * it where the append script reads it (so appends never trim past it either), then trims by
 * time with `MINID ~ min(now - retention, floor)`. With no group on the stream, plain time
 * retention applies. Run it periodically (the workers' maintenance queue does).
 */
import type { Redis } from 'ioredis'
import type { Keys } from './keys'

/** Compares stream ids `ms-seq` numerically. */
export function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number)
  const [bm = 0, bs = 0] = b.split('-').map(Number)
  return am !== bm ? am - bm : as - bs
}

/**
 * The oldest id any group of `stream` still needs, or undefined when no group reads it.
 * @example await trimFloor(redis, 'nudge:events:{0}') // '1795000000000-0'
 */
export async function trimFloor(redis: Redis, stream: string): Promise<string | undefined> {
  let groups: unknown[]
  try {
    groups = (await redis.xinfo('GROUPS', stream)) as unknown[]
  } catch (err) {
    if (/no such key/i.test((err as Error).message)) {
      return undefined
    }
    throw err
  }
  let floor: string | undefined
  for (const raw of groups) {
    const info = toRecord(raw as unknown[])
    const name = String(info.name)
    let needed = String(info['last-delivered-id'])
    if (Number(info.pending) > 0) {
      const summary = (await redis.xpending(stream, name)) as [number, string | null, ...unknown[]]
      if (summary[1]) {
        needed = summary[1]
      }
    }
    if (floor === undefined || compareIds(needed, floor) < 0) {
      floor = needed
    }
  }
  return floor
}

/**
 * Updates the floor of partition p and trims it by time, never past the floor.
 * @example await trimPartition(redis, keys, 0, 7 * 86_400_000, Date.now())
 */
export async function trimPartition(
  redis: Redis,
  keys: Keys,
  partition: number,
  retentionMs: number,
  now: number,
): Promise<{ floor?: string; trimmed: number }> {
  const stream = keys.events(partition)
  const floor = await trimFloor(redis, stream)
  let minMs = Math.max(0, now - retentionMs)
  if (floor === undefined) {
    await redis.del(keys.trimFloor(partition))
  } else {
    await redis.set(keys.trimFloor(partition), floor)
    minMs = Math.min(minMs, Number(floor.split('-')[0]))
  }
  const trimmed = await redis.xtrim(stream, 'MINID', '~', minMs)
  return { floor, trimmed }
}

function toRecord(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (let i = 0; i < flat.length; i += 2) {
    out[String(flat[i])] = flat[i + 1]
  }
  return out
}
