/**
 * @module The api role's wiring: services from clients, the app, the HTTP server, and a
 * `close` that stops intake and lets appends in flight finish. bin/nudge.ts calls it.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { Db } from '../drizzle/client'
import { findSealedSecret, findSiteBySecret, findSiteByWriteKey } from '../drizzle/queries/sites'
import type { Config } from '../runtime/config'
import type { Logger } from '../runtime/logger'
import type { Metrics } from '../runtime/metrics'
import type { Redis } from '../runtime/redis'
import { createSecretBox } from '../runtime/secret-box'
import type { ServerKeys } from '../runtime/secret-key'
import { createKeys } from '../streams/keys'
import type { EventLog } from '../streams/produce'
import { createApp } from './app'
import type { Services } from './context'
import { createRateLimiter } from './middleware/rate-limit'
import { createSiteDirectory } from './sites'

export type ApiDeps = {
  config: Config
  logger: Logger
  metrics: Metrics
  redis: Redis
  db: Db
  /** Keys derived from NUDGE_SECRET_KEY (runtime/secret-key.ts): token signing, secret sealing. */
  serverKeys: ServerKeys
  /** Readiness checks beyond Redis, by name. */
  readiness: Services['readiness']
  dryRun?: boolean
}

/** Builds the services the api's handlers use from already-connected clients. */
export function createServices(deps: ApiDeps): Services {
  const { config, redis, db } = deps
  const keys = createKeys(config.NUDGE_KEY_PREFIX)
  const log: EventLog = {
    keys,
    partitions: config.NUDGE_PARTITIONS,
    retentionMs: config.NUDGE_RETENTION,
    dedupWindowMs: config.NUDGE_DEDUP_WINDOW,
  }
  return {
    config,
    logger: deps.logger,
    metrics: deps.metrics,
    redis,
    db,
    log,
    sites: createSiteDirectory(
      {
        byWriteKey: (key) => findSiteByWriteKey(db, key),
        bySecret: (s) => findSiteBySecret(db, s),
      },
      { ttlMs: config.NUDGE_SITE_CACHE_TTL },
    ),
    rateLimiter: createRateLimiter(redis, keys, {
      siteRate: config.NUDGE_RATE_SITE,
      siteBurst: config.NUDGE_RATE_SITE_BURST,
      ipRate: config.NUDGE_RATE_IP,
      ipBurst: config.NUDGE_RATE_IP_BURST,
    }),
    identity: {
      tokenKey: deps.serverKeys.token,
      ttlMs: config.NUDGE_TOKEN_TTL,
      box: createSecretBox(deps.serverKeys.seal),
      sealedSecret: (siteId) => findSealedSecret(db, siteId),
    },
    readiness: deps.readiness,
    dryRun: deps.dryRun,
  }
}

/**
 * Serves the api on config.PORT (0 = any free port). `close` stops accepting connections,
 * waits for requests in flight (their appends included), and resolves.
 * @example const api = await startApi(deps); await api.close()
 */
export async function startApi(
  deps: ApiDeps,
): Promise<{ port: number; server: Server; close(): Promise<void> }> {
  const app = createApp(createServices(deps))
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: deps.config.PORT, hostname: deps.config.HOST }, () =>
      resolve(s as Server),
    ) as Server
  })
  // Slightly above common load-balancer idle timeouts, so the balancer closes first.
  server.keepAliveTimeout = 65_000
  const port = (server.address() as AddressInfo).port
  return {
    port,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeIdleConnections()
      }),
  }
}
