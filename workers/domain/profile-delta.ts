/**
 * @module What one event adds to a shopper's profile, as data: pure, no I/O. The processor hands
 * the result to apply-events-7.lua, which adds it with exponential decay from the event's own
 * time, so the order events are applied in does not change the result.
 */
import type { StoredEvent } from '../../streams/events'
import { PROFILE_HALF_LIFE_MS, type RecentEvent } from '../../streams/profile'

export { decayedValue } from '../../streams/profile'
export type { RecentEvent }

/** Engagement weight per event type and the half-life of score and interests. */
export type Weights = { byType: Partial<Record<StoredEvent['type'], number>>; halfLifeMs: number }

/**
 * Defaults: buying signals outweigh browsing ones; a week's half-life keeps last month's
 * shopper recognisable without letting a year-old order dominate. Sites may override them.
 */
export const DEFAULT_WEIGHTS: Weights = {
  halfLifeMs: PROFILE_HALF_LIFE_MS,
  byType: {
    PageViewed: 0.5,
    ProductViewed: 1,
    ClickedProduct: 2,
    SearchPerformed: 1,
    AddedToCart: 5,
    RemovedFromCart: -1,
    CheckoutStarted: 8,
    OrderCompleted: 20,
    UserLoggedIn: 3,
    OfferClicked: 3,
    OfferShown: 0,
    OfferDismissed: 0,
    UserLoggedOut: 0,
    Custom: 0.5,
  },
}

/** What to add for one event. */
export type ProfileDelta = {
  /** Engagement weight (may be negative). */
  score: number
  /** Category whose interest grows by |score| (interest only ever grows, then decays). */
  category?: string
  /** Items bought by this event. */
  bought: string[]
  /** The recent-events entry: what rule conditions read later. */
  recent: RecentEvent
}

/** The item an event is about, if any. */
export function itemOf(
  event: StoredEvent,
): { item: string; category?: string; price?: number } | undefined {
  switch (event.type) {
    case 'ProductViewed':
    case 'ClickedProduct':
    case 'AddedToCart':
    case 'RemovedFromCart':
      return {
        item: event.props.productId,
        category: event.props.category,
        price: event.props.price,
      }
    default:
      return undefined
  }
}

/**
 * @example profileDelta(event, DEFAULT_WEIGHTS).score // 1 for a ProductViewed
 */
export function profileDelta(event: StoredEvent, weights: Weights): ProfileDelta {
  const about = itemOf(event)
  const lines =
    event.type === 'OrderCompleted' || event.type === 'CheckoutStarted' ? event.props.products : []
  // A trailing '@' is how the interests hash marks a category's reference time (`Shoes@`): a
  // category named so would collide with it, so it loses its trailing '@'s.
  const named = about?.category ?? lines.find((line) => line.category)?.category
  const category = named?.replace(/@+$/, '') || undefined
  const recent: RecentEvent = { id: event.id, type: event.type, ts: event.ts }
  if (about) {
    recent.item = about.item
    recent.price = about.price
  }
  if (category !== undefined) {
    recent.category = category
  }
  if (event.context?.url !== undefined) {
    recent.url = event.context.url
  }
  if (event.type === 'Custom') {
    recent.name = event.props.name
  }
  return {
    score: weights.byType[event.type] ?? 0,
    category,
    bought: event.type === 'OrderCompleted' ? lines.map((line) => line.productId) : [],
    recent,
  }
}
