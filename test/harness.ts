/**
 * @module Boots the api in process against the real Redis and PostgreSQL, isolated by a unique
 * key prefix and schema, with a fresh site; teardown is registered with the running test.
 */

import { onTestFinished } from 'vitest'
import { createApp } from '../api/app'
import type { Services } from '../api/context'
import { createServices } from '../api/main'
import { createSite } from '../drizzle/queries/sites'
import { type Config, loadConfig } from '../runtime/config'
import { createLogger } from '../runtime/logger'
import { createMetrics } from '../runtime/metrics'
import { createRedis, waitReady } from '../runtime/redis'
import { createSecretBox } from '../runtime/secret-box'
import { deriveServerKeys } from '../runtime/secret-key'
import { startWorkers } from '../workers/main'
import { testDb } from './db'
import { TEST_REDIS_URL, testRedis } from './redis'

export type TestApi = Awaited<ReturnType<typeof testApi>>

/**
 * The master key every test process uses (NUDGE_SECRET_KEY of child processes too), so tokens
 * issued in one are accepted by another. Never a deployment's key.
 */
export const TEST_SECRET_KEY = Buffer.alloc(32, 7)

/**
 * @example const { app, site } = await testApi(); await app.request('/v1/events', …)
 */
export async function testApi(
  env: Record<string, string> = {},
  opts: { dryRun?: boolean; redisUrl?: string } = {},
) {
  const { redis: plain, prefix } = await testRedis()
  const { db, schema } = await testDb()
  const config: Config = loadConfig({
    NUDGE_KEY_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    NUDGE_PARTITIONS: '4',
    ...env,
  })
  const redis = createRedis(opts.redisUrl ?? TEST_REDIS_URL, {
    commandTimeoutMs: config.NUDGE_REDIS_TIMEOUT,
  })
  redis.on('error', () => {})
  await waitReady(redis, 5_000)
  onTestFinished(() => {
    redis.disconnect()
  })
  const serverKeys = deriveServerKeys(TEST_SECRET_KEY)
  const services: Services = createServices({
    config,
    logger: createLogger({ level: 'silent', role: 'api' }),
    metrics: createMetrics({ defaults: false }),
    redis,
    db,
    serverKeys,
    readiness: {},
    dryRun: opts.dryRun,
  })
  const box = createSecretBox(serverKeys.seal)
  const site = await createSite(db, {
    name: 'Test store',
    allowedOrigins: ['http://localhost:*', 'https://shop.example'],
    box,
  })
  return {
    app: createApp(services),
    services,
    config,
    redis: plain,
    prefix,
    db,
    schema,
    site,
    serverKeys,
    box,
  }
}

/** Basic auth header with the key as user name, as Segment clients send it. */
export function basic(key: string): string {
  return `Basic ${Buffer.from(`${key}:`).toString('base64')}`
}

let counter = 0

/** A valid ProductViewed event with a unique id. */
export function productViewed(overrides: Record<string, unknown> = {}) {
  counter += 1
  return {
    id: `evt-${process.pid}-${Date.now()}-${counter}`,
    type: 'ProductViewed',
    v: 1,
    anonymousId: 'anon-1',
    ts: Date.now(),
    context: { url: 'http://localhost:5173/products/p1' },
    props: { productId: 'p1', category: 'Shoes', price: 89.9, currency: 'EUR' },
    ...overrides,
  }
}

/**
 * The workers role (pump, processors, maintenance) on the test's keys and database, as
 * `nudge start --role workers` runs it, closed when the test ends.
 * @example const workers = await testWorkers(t); await workers.rules.reload()
 */
export async function testWorkers(t: Pick<TestApi, 'config' | 'redis' | 'db'>) {
  const workers = await startWorkers({
    config: t.config,
    logger: createLogger({ level: 'silent', role: 'workers' }),
    redis: t.redis,
    redisUrl: TEST_REDIS_URL,
    db: t.db,
  })
  onTestFinished(() => workers.close())
  return workers
}
