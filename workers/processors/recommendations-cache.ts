/**
 * @module A small process-local cache with a time to live and a size bound (oldest entry out
 * first), for values the recommendations step may use slightly stale: item weights (they only
 * normalise, and every write of the item refreshes them), trending lists (a day's half-life
 * makes a second's staleness invisible) and neighbour lists of a shopper's older items. Each
 * miss costs a Redis command, and commands, more than round trips, are what the step's CPU
 * goes to on both sides, so these caches keep its cost per event low.
 */
import type { Ranked } from '../domain/personal'

export type TtlCache<V> = {
  get(key: string, now: number): V | undefined
  set(key: string, value: V, now: number): void
}

/**
 * @example const weights = createTtlCache<number>({ ttlMs: 60_000, maxEntries: 100_000 })
 */
export function createTtlCache<V>(opts: { ttlMs: number; maxEntries: number }): TtlCache<V> {
  // A Map iterates in insertion order: re-inserting on set keeps the oldest first.
  const entries = new Map<string, { value: V; until: number }>()
  return {
    get(key, now) {
      const entry = entries.get(key)
      if (!entry) {
        return undefined
      }
      if (entry.until <= now) {
        entries.delete(key)
        return undefined
      }
      return entry.value
    },
    set(key, value, now) {
      entries.delete(key)
      entries.set(key, { value, until: now + opts.ttlMs })
      if (entries.size > opts.maxEntries) {
        const oldest = entries.keys().next()
        if (!oldest.done) {
          entries.delete(oldest.value)
        }
      }
    },
  }
}

/**
 * The step's caches: item weights n; trending lists and neighbour lists read for personal
 * blends. A neighbour list is never taken from the cache for an item the job itself wrote, so
 * a shopper's own event shows in their list at once; what other shoppers added to their older
 * items shows within `neighbours.ttlMs`.
 */
export type RecCaches = {
  weights: TtlCache<number>
  trending: TtlCache<Ranked>
  neighbours: TtlCache<Ranked>
}

/** Cache bounds: ~100 bytes an item weight, ~2 KB a trending or neighbour list (~60 MB max). */
export const REC_CACHE = {
  weights: { ttlMs: 300_000, maxEntries: 200_000 },
  trending: { ttlMs: 1_000, maxEntries: 5_000 },
  neighbours: { ttlMs: 30_000, maxEntries: 20_000 },
} as const

/** @example const caches = createRecCaches() */
export function createRecCaches(): RecCaches {
  return {
    weights: createTtlCache(REC_CACHE.weights),
    trending: createTtlCache(REC_CACHE.trending),
    neighbours: createTtlCache(REC_CACHE.neighbours),
  }
}

/** Cache key of one site's item (weights and neighbour lists). */
export function weightKey(siteId: string, item: string): string {
  return `${siteId}\u0000${item}`
}

/** Cache key of one site's trending list, site-wide (`undefined`) or of one category. */
export function trendingKey(siteId: string, category: string | undefined): string {
  return category === undefined ? `${siteId}\u0001` : `${siteId}\u0000${category}`
}
