/**
 * @module Trending as data: decayed popularity of items, for the whole site and per category.
 * Pure, no I/O; workers/scripts/trending-sets.lua applies the increments.
 *
 * A trending set stores each item's Σ weight · 2^((t − epoch) / half-life) with one epoch per
 * set (streams/recommendations.ts). Adding an interaction is then a plain ZINCRBY, and the
 * stored order equals the decayed order at any time. The factor grows by 2 per half-life past
 * the epoch; once an interaction is more than `rebaseAfterMs` past it, the script rescales the
 * set to a new epoch in the same atomic step (and drops members that decayed to nothing), so
 * the largest factor is 2^(rebaseAfter / half-life) and scores never overflow.
 *
 * Time is the event's own, capped at the time the api received it, so replayed and imported
 * history trends as it did then, and a client clock running ahead cannot push the epoch into
 * the future.
 */
import type { StoredEvent } from '../../streams/events'
import { TRENDING_HALF_LIFE_MS } from '../../streams/recommendations'
import { INTERACTION_WEIGHT, interactionsOf } from './co-occurrence'

export type TrendingOptions = {
  halfLifeMs: number
  /** Rescale a set to a new epoch when an interaction is this far past the current one. */
  rebaseAfterMs: number
  /** Members kept per set (top by score); trimmed once the set exceeds cap + slack. */
  cap: number
  slack: number
  /** Categories with their own set, per site; later categories count in the global set only. */
  maxCategories: number
}

export const TRENDING: TrendingOptions = {
  halfLifeMs: TRENDING_HALF_LIFE_MS,
  // 2^20 ≈ 10^6: far from overflow, and a rescale at most every 20 days per set.
  rebaseAfterMs: 20 * TRENDING_HALF_LIFE_MS,
  cap: 500,
  slack: 100,
  maxCategories: 1_000,
}

/** One increment of one trending set. */
export type TrendingIncrement = { item: string; weight: number; t: number }

/** Increments grouped by set: `undefined` is the site-wide set, a string a category's. */
export type TrendingUpdates = Map<string | undefined, TrendingIncrement[]>

/** The category an event's item belongs to, per item (order lines carry their own). */
function categoriesOf(event: StoredEvent): Map<string, string> {
  const out = new Map<string, string>()
  if (event.type === 'OrderCompleted') {
    for (const line of event.props.products) {
      if (line.category !== undefined && !out.has(line.productId)) {
        out.set(line.productId, line.category)
      }
    }
  } else if (
    (event.type === 'ProductViewed' ||
      event.type === 'ClickedProduct' ||
      event.type === 'AddedToCart') &&
    event.props.category !== undefined
  ) {
    out.set(event.props.productId, event.props.category)
  }
  return out
}

/**
 * The trending increments of a batch of events, grouped by set, one per item and set: an item
 * met several times is merged into one increment at its latest time, each earlier weight
 * decayed to it (w · 2^((t − latest) / half-life)), which adds exactly what the separate
 * increments would. Fewer increments, fewer writes.
 * @example trendingUpdates([viewOfP1InShoes]).get('Shoes') // [{ item: 'p1', weight: 1, t }]
 */
export function trendingUpdates(
  events: readonly StoredEvent[],
  halfLifeMs: number = TRENDING.halfLifeMs,
): TrendingUpdates {
  const sets = new Map<string | undefined, Map<string, TrendingIncrement>>()
  const push = (set: string | undefined, item: string, weight: number, t: number) => {
    let items = sets.get(set)
    if (!items) {
      items = new Map()
      sets.set(set, items)
    }
    const seen = items.get(item)
    if (!seen) {
      items.set(item, { item, weight, t })
    } else if (t > seen.t) {
      seen.weight = seen.weight * 2 ** ((seen.t - t) / halfLifeMs) + weight
      seen.t = t
    } else {
      seen.weight += weight * 2 ** ((t - seen.t) / halfLifeMs)
    }
  }
  for (const event of events) {
    const t = Math.min(event.ts, event.receivedAt)
    const categories = categoriesOf(event)
    for (const interaction of interactionsOf(event)) {
      const weight = INTERACTION_WEIGHT[interaction.kind]
      push(undefined, interaction.item, weight, t)
      const category = categories.get(interaction.item)
      if (category !== undefined && category !== '') {
        push(category, interaction.item, weight, t)
      }
    }
  }
  const updates: TrendingUpdates = new Map()
  for (const [set, items] of sets) {
    updates.set(set, [...items.values()])
  }
  return updates
}

/**
 * What one interaction adds to a set whose epoch is `epoch` (trending-sets.lua computes the same).
 * @example epochScore(1, epoch + TRENDING_HALF_LIFE_MS, epoch) // 2
 */
export function epochScore(
  weight: number,
  t: number,
  epoch: number,
  halfLifeMs: number = TRENDING.halfLifeMs,
): number {
  return weight * 2 ** ((t - epoch) / halfLifeMs)
}
