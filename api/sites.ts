/**
 * @module Site resolution for ingest: write key or secret → site, cached in memory.
 *
 * Limits: a positive answer is cached for NUDGE_SITE_CACHE_TTL (default 30 s), so a rotated
 * key keeps working in each api process for at most that long; an unknown key is cached for
 * at most 5 s, so garbage keys cannot hammer the database. At most `maxEntries` keys are kept
 * (oldest dropped first), so memory is bounded whatever keys clients send.
 */

/** What ingest needs of a site. */
export type Site = {
  id: string
  name: string
  writeKey: string
  allowedOrigins: string[]
  /** The site's half-life of score and interests in hours (null/absent: the default week). */
  halfLifeHours?: number | null
}

/** The storage side: supplied by drizzle/queries/sites.ts in main, or by a test. */
export type SiteLookup = {
  byWriteKey(key: string): Promise<Site | undefined>
  bySecret(secret: string): Promise<Site | undefined>
}

/** A resolved key: the site, and whether the caller proved it holds the site secret. */
export type ResolvedSite = { site: Site; trusted: boolean }

export type SiteDirectory = {
  /** Resolves a write key (`wk_…`) or a site secret (`sk_…`); undefined when unknown. */
  resolve(key: string): Promise<ResolvedSite | undefined>
  /**
   * Forgets every cached answer, after a site changed through this process (other processes
   * see the change within the cache's TTL).
   */
  clear(): void
}

const NEGATIVE_TTL_MS = 5_000

/**
 * @example const sites = createSiteDirectory(lookup, { ttlMs: 30_000 })
 */
export function createSiteDirectory(
  lookup: SiteLookup,
  opts: { ttlMs: number; maxEntries?: number },
): SiteDirectory {
  const maxEntries = opts.maxEntries ?? 10_000
  const cache = new Map<string, { until: number; value: Promise<ResolvedSite | undefined> }>()
  // Bumped by clear(): a lookup that started before it must not put its answer back.
  let generation = 0

  return {
    resolve(key) {
      const now = Date.now()
      const hit = cache.get(key)
      if (hit && hit.until > now) {
        return hit.value
      }
      const trusted = key.startsWith('sk_')
      const started = generation
      const value = (trusted ? lookup.bySecret(key) : lookup.byWriteKey(key)).then(
        (site) => {
          const ttl = site ? opts.ttlMs : Math.min(opts.ttlMs, NEGATIVE_TTL_MS)
          if (started === generation) {
            cache.set(key, { until: Date.now() + ttl, value })
          }
          return site && { site, trusted }
        },
        (err: unknown) => {
          // A failed lookup is never cached: the next request tries the database again.
          cache.delete(key)
          throw err
        },
      )
      // Concurrent requests for one key share the lookup in flight.
      cache.delete(key)
      cache.set(key, { until: now + opts.ttlMs, value })
      if (cache.size > maxEntries) {
        const oldest = cache.keys().next()
        if (!oldest.done) {
          cache.delete(oldest.value)
        }
      }
      return value
    },
    clear() {
      generation += 1
      cache.clear()
    },
  }
}
