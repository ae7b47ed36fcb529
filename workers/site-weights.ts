/**
 * @module Engagement weights per site: the defaults with the site's overrides from the database
 * on top, cached per process for `ttlMs` (a changed weight applies to events processed after
 * that, never retroactively). When the database is unreachable the last known weights are
 * used; with none known the lookup throws and the job is retried later, rather than applying
 * the wrong weights silently.
 */
import type { StoredEvent } from '../streams/events'
import { DEFAULT_WEIGHTS, type Weights } from './domain/profile-delta'

/** A site's overrides: weights by event type, and its own half-life (ms) when it has one. */
export type LoadOverrides = (
  siteId: string,
) => Promise<{ byType: Record<string, number>; halfLifeMs?: number }>

/**
 * @example const weightsFor = createSiteWeights((id) => findEventWeights(db, id)); await weightsFor('sit_1')
 */
export function createSiteWeights(load: LoadOverrides, opts: { ttlMs?: number } = {}) {
  const ttlMs = opts.ttlMs ?? 60_000
  const cache = new Map<string, { until: number; weights: Weights }>()
  return async (siteId: string): Promise<Weights> => {
    const hit = cache.get(siteId)
    if (hit && hit.until > Date.now()) {
      return hit.weights
    }
    let overrides: Awaited<ReturnType<LoadOverrides>>
    try {
      overrides = await load(siteId)
    } catch (err) {
      if (hit) {
        return hit.weights
      }
      throw err
    }
    const byType = { ...DEFAULT_WEIGHTS.byType }
    for (const [type, weight] of Object.entries(overrides.byType)) {
      if (type in byType && Number.isFinite(weight)) {
        byType[type as StoredEvent['type']] = weight
      }
    }
    const { halfLifeMs } = overrides
    const weights: Weights = {
      halfLifeMs:
        halfLifeMs !== undefined && Number.isFinite(halfLifeMs) && halfLifeMs > 0
          ? halfLifeMs
          : DEFAULT_WEIGHTS.halfLifeMs,
      byType,
    }
    cache.set(siteId, { until: Date.now() + ttlMs, weights })
    return weights
  }
}
