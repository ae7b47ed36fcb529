/**
 * @module The producer side of the event log: `appendEvents` writes one request's events to
 * `events:{p}` in one round trip, one stream entry per partition touched, deduplicated by
 * event id within the dedup window.
 *
 * Contract with consumers (see consume.ts): an entry's fields are event ids and its values are
 * `StoredEvent` JSON, in the order the client sent them.
 */
import { readFileSync } from 'node:fs'
import type { Redis } from 'ioredis'
import type { StoredEvent } from './events'
import type { Keys } from './keys'
import { partitionOf, profileKey } from './partition'

const APPEND_LUA = readFileSync(new URL('./scripts/append-events-4.lua', import.meta.url), 'utf8')

/** How the log is laid out and kept. */
export type EventLog = {
  keys: Keys
  partitions: number
  /** Entries older than this may be trimmed (MINID, approximate). */
  retentionMs: number
  /** A repeated event id is a duplicate when seen again within at least this long. */
  dedupWindowMs: number
}

/** A validated event, serialised once, with its partition. */
export type PreparedEvent = { id: string; partition: number; json: string }

/** What happened to each prepared event: appended, or skipped as a duplicate. */
export type AppendResult = { accepted: number; duplicateIds: string[] }

type AppendClient = Redis & {
  nudgeAppendEvents(
    stream: string,
    seenNow: string,
    seenBefore: string,
    floor: string,
    ...args: (string | number)[]
  ): Promise<[string, ...number[]]>
}

/**
 * Serialises a validated event and finds its partition. Call once per event; the JSON length
 * is what per-event size limits are checked against.
 * @example const prepared = prepareEvent(event, 8)
 */
export function prepareEvent(event: StoredEvent, partitions: number): PreparedEvent {
  return {
    id: event.id,
    partition: partitionOf(profileKey(event.siteId, event), partitions),
    json: JSON.stringify(event),
  }
}

/**
 * Appends events in one round trip (a pipeline of one script call per partition touched).
 * Resolves only once Redis holds every accepted event; rejects when Redis is unreachable or
 * slow, in which case some partitions may have been written: a client retry is then safe,
 * because the written ids are now duplicates.
 * @example const { accepted, duplicateIds } = await appendEvents(redis, log, prepared, Date.now())
 */
export async function appendEvents(
  redis: Redis,
  log: EventLog,
  events: readonly PreparedEvent[],
  now: number,
): Promise<AppendResult> {
  if (events.length === 0) {
    return { accepted: 0, duplicateIds: [] }
  }
  const client = withScript(redis)
  const byPartition = new Map<number, PreparedEvent[]>()
  for (const event of events) {
    const group = byPartition.get(event.partition)
    if (group) {
      group.push(event)
    } else {
      byPartition.set(event.partition, [event])
    }
  }
  const bucket = Math.floor(now / log.dedupWindowMs)
  const ttlSeconds = Math.ceil((2 * log.dedupWindowMs) / 1000)
  const minId = Math.max(0, now - log.retentionMs)
  const groups = [...byPartition]
  const pipeline = client.pipeline() as unknown as AppendClient & {
    exec(): Promise<[Error | null, unknown][] | null>
  }
  for (const [partition, group] of groups) {
    const args: (string | number)[] = [minId, ttlSeconds]
    for (const event of group) {
      args.push(event.id, event.json)
    }
    pipeline.nudgeAppendEvents(
      log.keys.events(partition),
      log.keys.seen(partition, bucket),
      log.keys.seen(partition, bucket - 1),
      log.keys.trimFloor(partition),
      ...args,
    )
  }
  const replies = await pipeline.exec()
  if (!replies) {
    throw new Error('Redis pipeline was aborted')
  }
  const duplicateIds: string[] = []
  for (let g = 0; g < groups.length; g++) {
    const [error, reply] = replies[g] as [Error | null, [string, ...number[]]]
    if (error) {
      throw error
    }
    const group = (groups[g] as [number, PreparedEvent[]])[1]
    for (let i = 1; i < reply.length; i++) {
      duplicateIds.push((group[reply[i] as number] as PreparedEvent).id)
    }
  }
  return { accepted: events.length - duplicateIds.length, duplicateIds }
}

function withScript(redis: Redis): AppendClient {
  const client = redis as AppendClient
  if (typeof client.nudgeAppendEvents !== 'function') {
    redis.defineCommand('nudgeAppendEvents', { numberOfKeys: 4, lua: APPEND_LUA })
  }
  return client
}
