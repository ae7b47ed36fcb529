/** @module The Hono environment: what every handler finds on `c` (services, request id, site). */
import type { Db } from '../drizzle/client'
import type { Config } from '../runtime/config'
import type { Logger } from '../runtime/logger'
import type { Metrics } from '../runtime/metrics'
import type { Redis } from '../runtime/redis'
import type { SecretBox } from '../runtime/secret-box'
import type { EventLog } from '../streams/produce'
import type { RateLimiter } from './middleware/rate-limit'
import type { SiteDirectory } from './sites'

/** Everything a handler may use, passed in by whoever builds the app (main or a test). */
export type Services = {
  config: Config
  logger: Logger
  metrics: Metrics
  redis: Redis
  /** Staff, rules, outcomes (the admin API). */
  db: Db
  log: EventLog
  sites: SiteDirectory
  rateLimiter: RateLimiter
  /** Identity tokens (POST /v1/identity, `X-Nudge-Token` on ingest). */
  identity: {
    /** HS256 key derived from NUDGE_SECRET_KEY. */
    tokenKey: Uint8Array
    /** NUDGE_TOKEN_TTL. */
    ttlMs: number
    /** Opens sealed site secrets, to check userHash. */
    box: SecretBox
    /** Sealed secret of a site; null when it has none yet, undefined when no such site. */
    sealedSecret(siteId: string): Promise<string | null | undefined>
  }
  /** Readiness checks beyond Redis (e.g. the database); each throws when not ready. */
  readiness: Record<string, () => Promise<void>>
  /** Appends are switched off (parse + validate only): the bench's "no Redis" ceiling. */
  dryRun?: boolean
}

export type HonoEnv = {
  Variables: {
    requestId: string
    services: Services
  }
}
