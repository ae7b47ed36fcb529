/**
 * @module Redis connections. Two kinds, because they fail differently:
 * - `createRedis` for request paths: no offline queue and a command timeout, so a request made
 *   while Redis is away fails within `commandTimeoutMs` instead of waiting or buffering.
 * - `createBlockingRedis` for consumers that park on `XREADGROUP BLOCK`: no command timeout
 *   and unlimited retries, since waiting is their job.
 * Key prefixes are applied by streams/keys.ts, not by ioredis `keyPrefix`, so that Lua
 * scripts and log lines see the same full key names.
 */
import { Redis } from 'ioredis'

export type { Redis } from 'ioredis'

/**
 * A fail-fast client for request paths.
 * @example const redis = createRedis('redis://127.0.0.1:6379', { commandTimeoutMs: 800 })
 */
export function createRedis(url: string, opts: { commandTimeoutMs: number; name?: string }): Redis {
  return new Redis(url, {
    connectionName: opts.name,
    enableOfflineQueue: false,
    commandTimeout: opts.commandTimeoutMs,
    connectTimeout: Math.max(opts.commandTimeoutMs, 1000),
    maxRetriesPerRequest: 1,
    // Reconnect forever, but never wait more than 2 s between tries.
    retryStrategy: (times) => Math.min(times * 100, 2000),
  })
}

/**
 * A client for blocking reads (one per blocked reader).
 * @example const reader = createBlockingRedis('redis://127.0.0.1:6379')
 */
export function createBlockingRedis(url: string, name?: string): Redis {
  return new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 100, 2000),
  })
}

/** Resolves once the client is connected, or rejects after `timeoutMs`. */
export async function waitReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') {
    return
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`Redis did not answer within ${timeoutMs} ms`))
    }, timeoutMs)
    const onReady = () => {
      cleanup()
      resolve()
    }
    const cleanup = () => {
      clearTimeout(timer)
      redis.off('ready', onReady)
    }
    redis.on('ready', onReady)
  })
}
