/**
 * @module What the gateway needs to know about a site (its origin allow-list, whether it still
 * exists), looked up through a function the entry file supplies and cached per process.
 *
 * Limits: a found site is cached for `ttlMs` (NUDGE_SITE_CACHE_TTL), a missing one for at most
 * 5 s, at most 10,000 sites (oldest dropped first). A failed lookup is not cached.
 */

export type LiveSite = { id: string; allowedOrigins: string[] }

/** Supplied by bin/nudge.ts (drizzle/queries/sites.ts findSite) or by a test. */
export type LookupSite = (siteId: string) => Promise<LiveSite | undefined>

const NEGATIVE_TTL_MS = 5_000
const MAX_ENTRIES = 10_000

/** @example const siteOf = cacheSites((id) => findSite(db, id), 30_000) */
export function cacheSites(lookup: LookupSite, ttlMs: number): LookupSite {
  const cache = new Map<string, { until: number; value: Promise<LiveSite | undefined> }>()
  return (siteId) => {
    const now = Date.now()
    const hit = cache.get(siteId)
    if (hit && hit.until > now) {
      return hit.value
    }
    const value = lookup(siteId).then(
      (site) => {
        const ttl = site ? ttlMs : Math.min(ttlMs, NEGATIVE_TTL_MS)
        cache.set(siteId, { until: Date.now() + ttl, value })
        return site
      },
      (err: unknown) => {
        cache.delete(siteId)
        throw err
      },
    )
    cache.delete(siteId)
    cache.set(siteId, { until: now + ttlMs, value })
    if (cache.size > MAX_ENTRIES) {
      const oldest = cache.keys().next()
      if (!oldest.done) {
        cache.delete(oldest.value)
      }
    }
    return value
  }
}
