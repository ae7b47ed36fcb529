/**
 * @module Test helpers for Redis: a unique key prefix per test and teardown that deletes
 * every key under it, registered with the test so it runs even when the test fails.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { onTestFinished } from 'vitest'

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A prefix no other test uses, e.g. `t:4f0c…:`. */
export function uniquePrefix(): string {
  return `t:${randomUUID().slice(0, 13)}:`
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    if (found.length > 0) {
      await redis.unlink(...found)
    }
  } while (cursor !== '0')
}

/**
 * A plain client for assertions plus a fresh prefix; both cleaned up when the test ends.
 * @example const { redis, prefix } = await testRedis()
 */
export async function testRedis(): Promise<{ redis: Redis; prefix: string }> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true })
  await redis.connect()
  const prefix = uniquePrefix()
  onTestFinished(async () => {
    await deleteKeys(redis, prefix)
    redis.disconnect()
  })
  return { redis, prefix }
}
