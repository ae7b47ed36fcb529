/**
 * @module Per-site and per-client-IP rate limits: token buckets in Redis, counted in events
 * (a request costs as many tokens as it carries events, at least one), shared by every api
 * process. Requests signed with the site secret (server senders) skip the per-IP bucket.
 */
import { readFileSync } from 'node:fs'
import type { Redis } from 'ioredis'
import type { Keys } from '../../streams/keys'

const TAKE_TOKENS_LUA = readFileSync(
  new URL('../scripts/take-tokens-2.lua', import.meta.url),
  'utf8',
)

/** Events per second and bucket size, per site and per client IP within a site. */
export type RateLimits = { siteRate: number; siteBurst: number; ipRate: number; ipBurst: number }

export type RateLimiter = {
  /**
   * Takes `cost` tokens from the site's bucket and (unless `ip` is undefined) the IP's, both or
   * neither. Resolves to 0 when taken, else to the milliseconds to wait before retrying.
   */
  take(siteId: string, ip: string | undefined, cost: number, now: number): Promise<number>
}

type TakeClient = Redis & {
  nudgeTakeTokens(site: string, ip: string, ...args: number[]): Promise<[number, number]>
}

/**
 * @example const limiter = createRateLimiter(redis, keys, { siteRate: 20000, siteBurst: 100000, ipRate: 1000, ipBurst: 10000 })
 */
export function createRateLimiter(redis: Redis, keys: Keys, limits: RateLimits): RateLimiter {
  const client = redis as TakeClient
  if (typeof client.nudgeTakeTokens !== 'function') {
    redis.defineCommand('nudgeTakeTokens', { numberOfKeys: 2, lua: TAKE_TOKENS_LUA })
  }
  return {
    async take(siteId, ip, cost, now) {
      const [taken, waitMs] = await client.nudgeTakeTokens(
        keys.rateSite(siteId),
        keys.rateIp(siteId, ip ?? '-'),
        now,
        Math.max(1, cost),
        limits.siteRate,
        limits.siteBurst,
        limits.ipRate,
        ip === undefined ? 0 : limits.ipBurst,
      )
      return taken === 1 ? 0 : waitMs
    },
  }
}
