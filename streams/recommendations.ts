/**
 * @module The recommendation sets as stored in Redis: what their scores mean and how a reader
 * turns them into answers. Workers write them (workers/processors/recommendations.ts and the
 * rec-item-2 / trending-sets / set-recs-1 Lua scripts); the api reads them. Keys are built in
 * keys.ts.
 *
 * - `recNeighbours(site, i)`: neighbour j → Σ pair weight / √n_j, each term divided by n_j as it
 *   was when the pair was seen. Dividing by √n_i at read time gives a cosine-like similarity
 *   co(i,j) / √(n_i·n_j), so merely popular neighbours do not dominate; folding √n_j in at
 *   write time keeps the trimmed top-N the top by similarity, not by raw count.
 * - `recItem(site, i)`: field `n`, the item's total interaction weight.
 * - `recTrending(site, category?)`: item → Σ weight · 2^((t − epoch) / half-life), relative to
 *   the set's epoch in `recTrendingEpochs(site)`. One epoch per set means every member decays
 *   alike, so the stored order is the decayed order and nothing is rewritten as time passes;
 *   writers move the epoch forward (rescaling the set in the same atomic step) before the
 *   factor grows large, so scores never overflow.
 * - `profileRecs(u)`: item → personal score, recomputed by workers on the shopper's events.
 */

/** Field of `recItem` holding the item's total interaction weight. */
export const ITEM_WEIGHT_FIELD = 'n'

/**
 * Half-life of trending popularity. A day: yesterday's best-seller still shows this morning,
 * last week's is gone by the weekend.
 */
export const TRENDING_HALF_LIFE_MS = 24 * 3_600_000

/** The `recTrendingEpochs` field holding one trending set's epoch (epoch ms). */
export function trendingEpochField(category?: string): string {
  return category === undefined ? 'all' : `cat:${category}`
}

/** Most items any recommendation answer lists. */
export const MAX_RECOMMENDATIONS = 100

/**
 * Cosine-like similarity from a stored neighbour score and the source item's weight n_i.
 * @example similarity(2, 4) // 1
 */
export function similarity(stored: number, itemWeight: number): number {
  return itemWeight > 0 ? stored / Math.sqrt(itemWeight) : 0
}

/**
 * A trending score as decayed weighted interactions at `now`.
 * @example trendingScoreAt(8, epoch, epoch + TRENDING_HALF_LIFE_MS) // 4
 */
export function trendingScoreAt(stored: number, epoch: number, now: number): number {
  return stored * 2 ** (-(now - epoch) / TRENDING_HALF_LIFE_MS)
}
