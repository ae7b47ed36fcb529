/** @module The Hono environment: what every handler finds on `c` (services, request id, site). */
import type { Config } from '../runtime/config'
import type { Logger } from '../runtime/logger'
import type { Metrics } from '../runtime/metrics'
import type { Redis } from '../runtime/redis'
import type { EventLog } from '../streams/produce'
import type { RateLimiter } from './middleware/rate-limit'
import type { SiteDirectory } from './sites'

/** Everything a handler may use, passed in by whoever builds the app (main or a test). */
export type Services = {
  config: Config
  logger: Logger
  metrics: Metrics
  redis: Redis
  log: EventLog
  sites: SiteDirectory
  rateLimiter: RateLimiter
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
