/**
 * @module Item-to-item co-occurrence as data: which item pairs one shopper event strengthens,
 * and by how much. Pure, no I/O; workers/processors/recommendations.ts applies the result.
 *
 * A pair's weight is the pair-kind weight (co-viewed < co-carted < cart→order <
 * bought-together) times 2^(−|Δt| / 30 min), Δt being the time between the two interactions;
 * pairs further apart than three hours are not counted. Each event pairs with at most
 * `maxPartners` distinct items (those closest in time), and an order with at most
 * `maxOrderLines` of its lines, so one event costs a bounded number of writes.
 */
import type { StoredEvent } from '../../streams/events'
import type { RecentEvent } from '../../streams/profile'

/** How strongly a shopper engaged with an item. */
export type InteractionKind = 'view' | 'cart' | 'order'

/** One shopper's interaction with one item; `order` groups the lines of one order. */
export type Interaction = { item: string; kind: InteractionKind; ts: number; order?: string }

/** One unordered pair to strengthen (both directions) by `weight`. */
export type Pair = { a: string; b: string; weight: number }

/**
 * Weight of one interaction in an item's popularity (`n`) and in trending: a purchase says more
 * than a cart, a cart more than a view.
 */
export const INTERACTION_WEIGHT: Record<InteractionKind, number> = { view: 1, cart: 3, order: 5 }

/**
 * Pair-kind weights, indexed [earlier/other kind][new kind] symmetric. Viewing anything next to
 * anything is co-viewing (1); two carts are co-carted (3); a cart followed by an order of the
 * other item is cart→order (4); two lines of one order are bought together (5). Lines of two
 * different orders count as co-carted: the same shopper wanted both, on different days.
 */
const PAIR_WEIGHT: Record<InteractionKind, Record<InteractionKind, number>> = {
  view: { view: 1, cart: 1, order: 1 },
  cart: { view: 1, cart: 3, order: 4 },
  order: { view: 1, cart: 4, order: 3 },
}
const SAME_ORDER_WEIGHT = 5

export type CoOccurrenceOptions = {
  /** Δt at which a pair counts half. */
  halfLifeMs: number
  /** Pairs further apart than this are not counted. */
  maxGapMs: number
  /** Distinct partner items per new interaction. */
  maxPartners: number
  /** Lines of one order that pair with each other and with history. */
  maxOrderLines: number
}

export const CO_OCCURRENCE: CoOccurrenceOptions = {
  halfLifeMs: 30 * 60_000,
  maxGapMs: 3 * 3_600_000,
  maxPartners: 5,
  maxOrderLines: 10,
}

/**
 * The item interactions an event stands for: one for a view, click or cart, one per distinct
 * line (up to `maxOrderLines`) for an order, none for anything else. Removals are not a
 * positive signal and pair with nothing.
 * @example interactionsOf(productViewedEvent) // [{ item: 'p1', kind: 'view', ts }]
 */
export function interactionsOf(
  event: StoredEvent,
  opts: Pick<CoOccurrenceOptions, 'maxOrderLines'> = CO_OCCURRENCE,
): Interaction[] {
  switch (event.type) {
    case 'ProductViewed':
    case 'ClickedProduct':
      return [{ item: event.props.productId, kind: 'view', ts: event.ts }]
    case 'AddedToCart':
      return [{ item: event.props.productId, kind: 'cart', ts: event.ts }]
    case 'OrderCompleted': {
      const items = [...new Set(event.props.products.map((line) => line.productId))]
      return items.slice(0, opts.maxOrderLines).map((item) => ({
        item,
        kind: 'order' as const,
        ts: event.ts,
        order: event.props.orderId,
      }))
    }
    default:
      return []
  }
}

/**
 * The interaction a stored recent-event entry stands for (orders are not in the recent list
 * with their lines; the processor takes past purchases from the bought set instead).
 * @example fromRecent({ id: 'e1', type: 'AddedToCart', ts, item: 'p1' }) // { item: 'p1', kind: 'cart', ts }
 */
export function fromRecent(entry: RecentEvent): Interaction | undefined {
  if (entry.item === undefined) {
    return undefined
  }
  switch (entry.type) {
    case 'ProductViewed':
    case 'ClickedProduct':
      return { item: entry.item, kind: 'view', ts: entry.ts }
    case 'AddedToCart':
      return { item: entry.item, kind: 'cart', ts: entry.ts }
    default:
      return undefined
  }
}

/**
 * The pairs that a shopper's new interactions (one event's) form with each other and with the
 * shopper's history. Each unordered pair appears at most once; the caller adds both directions.
 * @example pairsFor([{ item: 'a', kind: 'view', ts: 0 }], [{ item: 'b', kind: 'view', ts: 60_000 }])
 * // [{ a: 'b', b: 'a', weight: ≈0.977 }]
 */
export function pairsFor(
  history: readonly Interaction[],
  fresh: readonly Interaction[],
  opts: CoOccurrenceOptions = CO_OCCURRENCE,
): Pair[] {
  const pairs = new Map<string, Pair>()
  const add = (a: string, b: string, weight: number) => {
    const key = a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`
    const seen = pairs.get(key)
    if (!seen || seen.weight < weight) {
      pairs.set(key, { a, b, weight })
    }
  }
  for (let i = 0; i < fresh.length; i++) {
    const x = fresh[i] as Interaction
    for (let j = i + 1; j < fresh.length; j++) {
      const y = fresh[j] as Interaction
      if (x.item !== y.item && x.order !== undefined && x.order === y.order) {
        add(x.item, y.item, SAME_ORDER_WEIGHT)
      }
    }
    for (const [partner, weight] of partners(history, x, opts)) {
      add(x.item, partner, weight)
    }
  }
  return [...pairs.values()]
}

/** The closest-in-time distinct partners of `x`, each with its strongest pair weight. */
function partners(
  history: readonly Interaction[],
  x: Interaction,
  opts: CoOccurrenceOptions,
): [string, number][] {
  const best = new Map<string, { gap: number; weight: number }>()
  for (const h of history) {
    const gap = Math.abs(x.ts - h.ts)
    if (h.item === x.item || gap > opts.maxGapMs) {
      continue
    }
    const weight = PAIR_WEIGHT[h.kind][x.kind] * 2 ** (-gap / opts.halfLifeMs)
    const seen = best.get(h.item)
    if (!seen) {
      best.set(h.item, { gap, weight })
    } else {
      seen.gap = Math.min(seen.gap, gap)
      seen.weight = Math.max(seen.weight, weight)
    }
  }
  return [...best.entries()]
    .sort((p, q) => p[1].gap - q[1].gap)
    .slice(0, opts.maxPartners)
    .map(([item, { weight }]) => [item, weight])
}
