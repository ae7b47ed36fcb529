/**
 * @module What the bench's processes tell each other on stdout (one JSON object a line), and the
 * few things they share: the origin the "storefront" sends from and key cleanup.
 *
 * A load child prints `{ event: 'start' }` when its measured window opens, `{ event: 'end' }`
 * when it closes (the orchestrator reads CPU counters at both), then `{ event: 'result', … }`.
 */
import type { Redis } from 'ioredis'
import type { Latency } from './measure'

/** The origin the load generator sends, as a storefront's browser would. */
export const BENCH_ORIGIN = 'https://shop.example'

/** What the api server prints when it is ready to take load. */
export type ServerReady = { port: number; writeKey: string; pid: number; prefix: string }

/** What a load child (HTTP or straight XADD) measured in its window. */
export type LoadResult = {
  event: 'result'
  seconds: number
  /** Requests (or pipelines, for XADD) completed in the window. */
  requests: number
  /** Events stored (or, with appends off, validated) by completed requests in the window. */
  events: number
  duplicates: number
  rejected: number
  /** Failed requests by HTTP status or error code. */
  errors: Record<string, number>
  eventsPerSecond: number
  requestsPerSecond: number
  /** Open loop only: requests due in the window, to show the generator kept its pace. */
  offered?: number
  latencyMs: Latency
  /** The child's own CPU (user + system) in the window, as it measured it. */
  cpuMs: number
}

export type LoadMessage = { event: 'start' } | { event: 'end' } | LoadResult

/** Deletes every key under `prefix` (SCAN + UNLINK, so big streams are freed in the background). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0'
  let deleted = 0
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    if (found.length > 0) {
      deleted += await redis.unlink(...found)
    }
  } while (cursor !== '0')
  return deleted
}

/** Prints one protocol line. */
export function emit(message: LoadMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`)
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Runs `onGone` when the orchestrator that spawned this process (with an IPC channel) goes
 * away, so a killed bench never leaves a child loading a server or holding keys. Run by hand,
 * without a channel, this does nothing.
 */
export function whenParentGone(onGone: () => void): void {
  if (process.channel) {
    process.on('disconnect', onGone)
    // The channel alone must not keep a finished child alive.
    process.channel.unref()
  }
}
