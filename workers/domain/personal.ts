/**
 * @module Personal recommendations as data: the shopper's own recent items first, by how
 * lately and how often they were seen, then the neighbours of those items and what trends in
 * their top categories, never what they already bought. Pure, no I/O; the processor reads the
 * inputs `personalSources` asks for and stores the answer.
 *
 * score(c) = revisit · v_c                            c is one of the shopper's recent items
 * score(c) = Σ_i r_i · sim(i, c)                      any other item: neighbours of recent item i
 *          + trending · Σ_k share_k · trend_k(c)     trending in top category k
 *          + global · trend(c)                        site-wide trending, a tie-breaker
 * with r_i the recency weight of source i scaled so the strongest is 1 (newest first, a cart or
 * order counting double), v_c the re-visit weight of own item c (recency summed over its
 * interactions, below), sim the cosine-like similarity of streams/recommendations.ts, share_k
 * the category's part of the top interests and trend(c) a trending score scaled so the set's
 * top item is 1.
 *
 * Why the shopper's own items lead: on sparse, long-tailed traffic the single most likely next
 * item is one the shopper just looked at (4 of the 12 OTTO shoppers in bench/EVAL.md and a third
 * of its synthetic ones, nearly always one of the 3 newest). An own item is ranked by the
 * shopper's own interactions with it only: it takes no neighbour or trending score, so being
 * co-viewed with the shopper's other items does not reorder them (the item-kNN convention).
 * With revisit = 2, similarities being about 1 at most, the newest items lead and outrank their
 * own neighbours, while older ones give way to strong neighbours of newer items: the 4th newest
 * (v ≈ 0.8³) scores about 1, the 7th about 0.5. Neighbours, then category and site-wide
 * trending, fill the rest of the list, which the shopper's own items alone leave short for most
 * shoppers.
 *
 * How often, not only how lately: v_c = Σ over the shopper's interactions e with c of
 * kind_e · rankDecay^position_e · time_e, position_e counting the shopper's interactions newer
 * than e, scaled so the strongest single interaction is 1. An item looked at again and again is
 * a likelier next item than one glanced at once (the repeat-consumption literature: recency and
 * frequency both predict a re-visit). For a shopper who never re-visits, every item has one
 * interaction and the order is the recency order. Viewed 3 times before one glance at another
 * item, an item scores 0.8 + 0.64 + 0.51 ≈ 1.95 against 1 and comes first, while an
 * interaction 9 positions back adds at most 0.13. The events are the sources' events, the
 * newest 24 read (recommendations.ts `REC_LIMITS.recentRead`), repeats included. The neighbours
 * of an own item still weigh by r_i, its strongest interaction: a repeated glance is stronger
 * evidence that the shopper returns to the item, not that its neighbours fit them better.
 *
 * Bought items are never recommended, also as re-visits: a shopper rarely comes back to what
 * they bought (under 1% of held-out events in the eval) and showing it again reads as a bug.
 *
 * A shopper with no history and no interests gets site-wide trending (cold start).
 */
import { similarity } from '../../streams/recommendations'
import type { Interaction, InteractionKind } from './co-occurrence'

export type PersonalOptions = {
  /** Distinct recent items whose neighbours are blended in. */
  sourceItems: number
  /** Time between a source and the shopper's latest interaction at which it counts ¾. */
  recencyHalfLifeMs: number
  /**
   * Weight per rank of a source, newest first: 0.8 → the 4th newest counts half. The re-visit
   * weight applies it per interaction rather than per distinct item.
   */
  rankDecay: number
  /** Categories of interest whose trending items are blended in. */
  topCategories: number
  /** `revisit` scores the shopper's own recent items; the others blend everything else. */
  weights: { neighbours: number; revisit: number; trending: number; global: number }
  /** Items in the answer (the api tops a shorter list up with trending, up to 100). */
  limit: number
}

export const PERSONAL: PersonalOptions = {
  sourceItems: 10,
  recencyHalfLifeMs: 3_600_000,
  rankDecay: 0.8,
  topCategories: 3,
  weights: { neighbours: 1, revisit: 2, trending: 0.3, global: 0.05 },
  limit: 50,
}

/** A carted or bought item says more about what the shopper wants next than a glance. */
const SOURCE_WEIGHT: Record<InteractionKind, number> = { view: 1, cart: 2, order: 2 }

/** A ranked list as stored: [item, score], best first. */
export type Ranked = readonly (readonly [string, number])[]

/** The items and categories whose lists `personalRecs` needs. */
export type PersonalSources = {
  /** Source items → recency weight in (0, 1], the strongest first. */
  items: [string, number][]
  /**
   * The same items → their re-visit weight: the recency weights of all their interactions
   * summed (see the module comment), the strongest single interaction counting 1; best first.
   */
  own: [string, number][]
  /** Top categories → share of the top interests, summing to 1. */
  categories: [string, number][]
}

export type PersonalInput = PersonalSources & {
  /** Items bought: never recommended. */
  bought: ReadonlySet<string>
  /** Per source item: its weight n and its stored neighbours. */
  neighbours: ReadonlyMap<string, { n: number; list: Ranked }>
  /** Per top category: its trending list. */
  trending: ReadonlyMap<string, Ranked>
  /** Site-wide trending. */
  global: Ranked
}

/**
 * Which recent items and categories drive a shopper's recommendations.
 * @example personalSources(history, { Shoes: 3, Bags: 1 }).categories // [['Shoes', 0.75], ['Bags', 0.25]]
 */
export function personalSources(
  history: readonly Interaction[],
  interests: Readonly<Record<string, number>>,
  opts: PersonalOptions = PERSONAL,
): PersonalSources {
  const latest = history.reduce((max, h) => Math.max(max, h.ts), Number.NEGATIVE_INFINITY)
  const newestFirst = [...history].sort((a, b) => b.ts - a.ts)
  const items = new Map<string, number>()
  const own = new Map<string, number>()
  let strongestOnce = 0
  let rank = 0
  for (const [position, h] of newestFirst.entries()) {
    const time = 0.5 + 0.5 * 2 ** (-(latest - h.ts) / opts.recencyHalfLifeMs)
    const weight = SOURCE_WEIGHT[h.kind] * opts.rankDecay ** rank * time
    const seen = items.get(h.item)
    if (seen === undefined) {
      if (items.size === opts.sourceItems) {
        continue
      }
      items.set(h.item, weight)
      rank += 1
    } else if (seen < weight) {
      items.set(h.item, weight)
    }
    // Ranked by interaction, not by distinct item: each repeat pushes older interactions back.
    const once = SOURCE_WEIGHT[h.kind] * opts.rankDecay ** position * time
    own.set(h.item, (own.get(h.item) ?? 0) + once)
    strongestOnce = Math.max(strongestOnce, once)
  }
  const scaled = (weights: Map<string, number>, by: number): [string, number][] =>
    [...weights.entries()]
      .map(([item, w]): [string, number] => [item, w / by])
      .sort((a, b) => b[1] - a[1])

  const top = Object.entries(interests)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, opts.topCategories)
  const total = top.reduce((sum, [, v]) => sum + v, 0)
  return {
    items: scaled(items, Math.max(0, ...items.values())),
    own: scaled(own, strongestOnce),
    categories: top.map(([c, v]) => [c, v / total]),
  }
}

/**
 * The shopper's personal recommendations, best first, at most `limit`.
 * @example personalRecs({ items: [['p1', 1]], own: [['p1', 1]], categories: [], bought: new Set(), neighbours, trending: new Map(), global: [] })
 */
export function personalRecs(
  input: PersonalInput,
  opts: PersonalOptions = PERSONAL,
): [string, number][] {
  const w = opts.weights
  const scores = new Map<string, number>()
  // The shopper's own items, bought or not, take no other score (see the module comment).
  const own = new Set(input.items.map(([item]) => item))
  for (const [item, weight] of input.own) {
    own.add(item)
    const value = w.revisit * weight
    if (value > 0 && !input.bought.has(item)) {
      scores.set(item, value)
    }
  }
  const add = (item: string, value: number) => {
    if (value > 0 && !own.has(item) && !input.bought.has(item)) {
      scores.set(item, (scores.get(item) ?? 0) + value)
    }
  }
  for (const [source, recency] of input.items) {
    const neighbours = input.neighbours.get(source)
    for (const [item, stored] of neighbours?.list ?? []) {
      add(item, w.neighbours * recency * similarity(stored, neighbours?.n ?? 0))
    }
  }
  for (const [category, share] of input.categories) {
    addScaled(input.trending.get(category) ?? [], w.trending * share, add)
  }
  const coldStart = input.items.length === 0 && input.categories.length === 0
  addScaled(input.global, coldStart ? 1 : w.global, add)
  return [...scores.entries()].sort((a, b) => b[1] - a[1]).slice(0, opts.limit)
}

/** Adds a ranked list scaled so its top item gets `weight`. */
function addScaled(list: Ranked, weight: number, add: (item: string, value: number) => void) {
  const top = list[0]?.[1] ?? 0
  if (top <= 0) {
    return
  }
  for (const [item, score] of list) {
    add(item, (weight * score) / top)
  }
}
