/**
 * @module SYNTHETIC shopper traffic for `npm run eval:recs -- --synthetic <shoppers>`: made up,
 * deterministic per seed, and shaped like real store traffic rather than like a dense
 * benchmark, because the only real sample here (20 OTTO sessions) is too small to rank
 * methods on. The eval labels every figure from it SYNTHETIC.
 *
 * The shape, and why:
 * - events per shopper follow a power law (P(k) ∝ k^-2, at most 200): most shoppers have one
 *   to five events, a few have hundreds, as in OTTO;
 * - items belong to themes of 25 (a theme is a kind of product within one category); themes and
 *   the items within a theme are picked Zipf-like, so a few items are popular and most are seen
 *   once: the long tail;
 * - a session wanders: re-visit one of its last three items (22%), another item of the same
 *   theme (53%), or a new theme (25%), so co-viewing carries signal, as in real sessions; the
 *   catalogue is four items per shopper, so about half the items are seen once and a third of
 *   the held-out events are re-visits (OTTO sample: 71% and 4 of 12);
 * - a re-visit is a cart 25% of the time, and a carted item is bought 10% of the time after;
 * - seconds to minutes between events, with an occasional new session days later.
 * It is still a model: real data comes first in EVAL.md, and these figures only say how the
 * methods compare at a size where one hit is not 9% of the score.
 */

export type SyntheticOptions = {
  shoppers: number
  /** Items in the catalogue (default: four per shopper). */
  items?: number
  categories?: number
  seed?: number
}

const THEME_SIZE = 25
const MAX_EVENTS = 200
/** 2024-01-01T00:00:00Z: any time inside the import's 2000–2100 window. */
const START_SECONDS = 1_704_067_200
const SPAN_SECONDS = 28 * 24 * 3600

/** mulberry32: a small, fast, seedable generator; quality is ample for traffic shapes. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Draws 0..n-1 with P(i) ∝ 1 / (i + 1)^s, by inverting the precomputed cumulative weights. */
function zipf(n: number, s: number, rand: () => number): () => number {
  const cumulative: number[] = []
  let total = 0
  for (let i = 0; i < n; i++) {
    total += 1 / (i + 1) ** s
    cumulative.push(total)
  }
  return () => {
    const x = rand() * total
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((cumulative[mid] ?? total) < x) {
        lo = mid + 1
      } else {
        hi = mid
      }
    }
    return lo
  }
}

/**
 * The CSV lines (header first) of a synthetic store, in shopper order.
 * @example syntheticCsv({ shoppers: 1000, seed: 1 })[0] // 'user_id,item_id,category_id,event,ts'
 */
export function syntheticCsv(opts: SyntheticOptions): string[] {
  const rand = random(opts.seed ?? 1)
  const items = Math.max(THEME_SIZE, opts.items ?? 4 * opts.shoppers)
  const categories = opts.categories ?? 40
  const themes = Math.ceil(items / THEME_SIZE)
  const pickTheme = zipf(themes, 0.8, rand)
  const pickInTheme = zipf(THEME_SIZE, 1, rand)
  const pickLength = zipf(MAX_EVENTS, 2, rand)
  // Theme ranks are shuffled over ids, so popular items are not all s0, s1, s2, …
  const themeAt = [...Array(themes).keys()]
  for (let i = themes - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    const swap = themeAt[i] ?? i
    themeAt[i] = themeAt[j] ?? j
    themeAt[j] = swap
  }
  const itemOf = (theme: number) =>
    Math.min(items - 1, (themeAt[theme] ?? theme) * THEME_SIZE + pickInTheme())
  const categoryOf = (item: number) => Math.floor(item / THEME_SIZE) % categories

  const lines = ['user_id,item_id,category_id,event,ts']
  for (let u = 0; u < opts.shoppers; u++) {
    const length = pickLength() + 1
    let theme = pickTheme()
    let ts = START_SECONDS + Math.floor(rand() * SPAN_SECONDS)
    const recent: number[] = []
    const carted: number[] = []
    for (let e = 0; e < length; e++) {
      const roll = rand()
      let item: number
      let event = 'view'
      const last = recent.slice(-3)
      const bought = carted.length > 0 && rand() < 0.1 ? carted.shift() : undefined
      if (bought !== undefined) {
        item = bought
        event = 'buy'
      } else if (roll < 0.22 && last.length > 0) {
        item = last[Math.floor(rand() * last.length)] ?? 0
        if (rand() < 0.25) {
          event = 'cart'
          carted.push(item)
        }
      } else {
        if (roll >= 0.75) {
          theme = pickTheme()
        }
        item = itemOf(theme)
      }
      recent.push(item)
      lines.push(`syn-${u},s${item},scat-${categoryOf(item)},${event},${ts}`)
      // Mostly 5 s to ~5 min apart; one gap in 20 is a new session 1–4 days later.
      ts +=
        rand() < 0.05
          ? 86_400 + Math.floor(rand() * 3 * 86_400)
          : 5 + Math.floor(-Math.log(1 - rand()) * 60)
    }
  }
  return lines
}
