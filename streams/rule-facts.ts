/**
 * @module Reading what rules look at (workers decide with it, the admin preview explains with
 * it): one pipelined round trip per job fetches, for every shopper with candidate rules, the
 * profile hash, interests and recent events (for the shoppers rules are evaluated for), offers
 * so far and the audience anchor. The anchor is set here on first use (SET NX), so it is the id
 * of the shopper's first decision-bearing event: their anonymous id, kept when they log in (the
 * login event carries it), hence a stable holdout group across sessions and login.
 */
import type { Redis } from 'ioredis'
import type { StoredEvent } from './events'
import type { Keys } from './keys'
import {
  decayedValue,
  PROFILE_FIELDS,
  PROFILE_HALF_LIFE_MS,
  type RecentEvent,
  refField,
} from './profile'
import type { Facts } from './rule-conditions'

/** One offer already decided for the shopper, as decide-5.lua records it. */
export type PastOffer = {
  offerId: string
  ruleId: string
  ruleVersion: number
  kind: 'd' | 'h'
  decisionKey: string
  at: number
}

export type ShopperState = {
  profile: Record<string, string>
  interests: Record<string, string>
  recent: RecentEvent[]
  offers: PastOffer[]
  anchor: string
}

/** Parses an offers-set member `offerId|ruleId|version|kind|decisionKey`. */
export function parseOfferMember(member: string, at: number): PastOffer | undefined {
  const [offerId, ruleId, version, kind, ...rest] = member.split('|')
  if (!offerId || !ruleId || (kind !== 'd' && kind !== 'h')) {
    return undefined
  }
  return { offerId, ruleId, ruleVersion: Number(version), kind, decisionKey: rest.join('|'), at }
}

function check<T>(reply: [Error | null, unknown] | undefined): T {
  if (!reply) {
    throw new Error('pipeline returned no reply')
  }
  if (reply[0]) {
    throw reply[0]
  }
  return reply[1] as T
}

/**
 * The offers each profile was given (its offers set), nothing else of its state: for outcomes
 * that may concern a profile other than the event's (offers got before a login).
 * @example const offers = await readPastOffers(redis, keys, ['sit_1:a:x'])
 */
export async function readPastOffers(
  redis: Redis,
  keys: Keys,
  profiles: readonly string[],
): Promise<Map<string, PastOffer[]>> {
  const out = new Map<string, PastOffer[]>()
  if (profiles.length === 0) {
    return out
  }
  const pipeline = redis.pipeline()
  for (const profile of profiles) {
    pipeline.zrange(keys.profileOffers(profile), 0, -1, 'WITHSCORES')
  }
  const replies = (await pipeline.exec()) ?? []
  profiles.forEach((profile, i) => {
    out.set(profile, parseOffers(check<string[]>(replies[i])))
  })
  return out
}

function parseOffers(flat: readonly string[]): PastOffer[] {
  const offers: PastOffer[] = []
  for (let j = 0; j < flat.length; j += 2) {
    const offer = parseOfferMember(flat[j] as string, Number(flat[j + 1]))
    if (offer) {
      offers.push(offer)
    }
  }
  return offers
}

/** An anchor's TTL where the caller gives none (tools, tests): a year. */
const ANCHOR_DEFAULT_TTL_MS = 365 * 24 * 3_600_000

/**
 * Reads the state of each distinct profile (one pipeline).
 * @example const states = await readShoppers(redis, keys, [{ profile: 'sit_1:a:x', anchor: 'x' }])
 */
export async function readShoppers(
  redis: Redis,
  keys: Keys,
  wanted: readonly {
    profile: string
    anchor: string
    /**
     * False when no rule will be evaluated for this shopper (their events only bring outcomes,
     * or are too old to decide on): the profile, interests and recent events are not read, and
     * are empty in the state; offers and the anchor are read as always.
     */
    facts?: boolean
  }[],
  /**
   * Sets a missing anchor to live this long (ms; the profile's TTL, renewed with the profile
   * by workers/scripts/apply-events-7.lua), or false for read-only callers (the admin
   * preview): the anchor is read, never set.
   */
  claimAnchor: number | false = ANCHOR_DEFAULT_TTL_MS,
): Promise<Map<string, ShopperState>> {
  const pipeline = redis.pipeline()
  for (const { profile, anchor, facts = true } of wanted) {
    if (facts) {
      pipeline.hgetall(keys.profile(profile))
      pipeline.hgetall(keys.profileInterests(profile))
      pipeline.zrange(keys.profileRecent(profile), 0, -1)
    }
    pipeline.zrange(keys.profileOffers(profile), 0, -1, 'WITHSCORES')
    if (claimAnchor !== false) {
      pipeline.set(keys.profileAnchor(profile), anchor, 'PX', claimAnchor, 'NX', 'GET')
    } else {
      pipeline.get(keys.profileAnchor(profile))
    }
  }
  const replies = (await pipeline.exec()) ?? []
  const out = new Map<string, ShopperState>()
  let at = 0
  for (const { profile, anchor, facts = true } of wanted) {
    const recent: RecentEvent[] = []
    let profileHash: Record<string, string> = {}
    let interests: Record<string, string> = {}
    if (facts) {
      profileHash = check(replies[at++])
      interests = check(replies[at++])
      for (const raw of check<string[]>(replies[at++])) {
        // Written by apply-events-7.lua from validated events: a shape check is enough here, and
        // a full zod parse of 50 entries per shopper per job would cost more than the rules.
        const entry = JSON.parse(raw) as RecentEvent
        if (typeof entry?.type === 'string' && typeof entry.ts === 'number') {
          recent.push(entry)
        }
      }
    }
    const offers = parseOffers(check<string[]>(replies[at++]))
    out.set(profile, {
      profile: profileHash,
      interests,
      recent,
      offers,
      anchor: check<string | null>(replies[at++]) ?? anchor,
    })
  }
  return out
}

/**
 * The facts a rule sees for one event: decayed values at the event's own time, and only the
 * recent events up to it (a job applies all its events before deciding, so later ones of the
 * same job are already in the list).
 */
export function factsFor(
  event: StoredEvent,
  state: ShopperState,
  timezone: string,
  /** The site's half-life of score and interests, as the workers wrote them with. */
  halfLifeMs: number = PROFILE_HALF_LIFE_MS,
): Facts {
  const d = derivedOf(state)
  // "Last seen" before this event: the profile's `last` is this event (or a later one of the
  // same job) by now, so take the newest recent event before it (the list is oldest first).
  let lastBefore: number | undefined
  for (let i = state.recent.length - 1; i >= 0; i--) {
    const r = state.recent[i] as RecentEvent
    if (r.ts < event.ts && r.id !== event.id) {
      lastBefore = r.ts
      break
    }
  }
  const last = lastBefore ?? (d.last === undefined ? undefined : Math.min(d.last, event.ts))
  return {
    event,
    profile: {
      engagement:
        d.score !== undefined && d.scoreRef !== undefined
          ? decayedValue(d.score, d.scoreRef, event.ts, halfLifeMs)
          : 0,
      purchases: d.purchases,
      counts: d.counts,
      ...(d.first !== undefined && { first: d.first }),
      ...(last !== undefined && { last }),
      interest: (category) => {
        const found = d.interests.get(category.toLowerCase())
        return found ? decayedValue(found.value, found.ref, event.ts, halfLifeMs) : 0
      },
    },
    // Count conditions bound their window by the event's time, so later events of the same job
    // in this list are never counted.
    recent: state.recent,
    timezone,
    memo: [],
  }
}

/** What every event of one shopper in a job shares, parsed once (not once per event). */
type Derived = {
  score?: number
  scoreRef?: number
  purchases: number
  first?: number
  last?: number
  counts: Record<string, number>
  /** Lowercased category → stored value and its reference time. */
  interests: Map<string, { value: number; ref: number }>
}

const derived = new WeakMap<ShopperState, Derived>()

function derivedOf(state: ShopperState): Derived {
  const known = derived.get(state)
  if (known) {
    return known
  }
  const p = state.profile
  const num = (field: string) => {
    const n = Number(p[field])
    return p[field] !== undefined && Number.isFinite(n) ? n : undefined
  }
  const counts: Record<string, number> = {}
  for (const [field, raw] of Object.entries(p)) {
    if (field === PROFILE_FIELDS.count || field.startsWith('n:')) {
      counts[field] = Number(raw)
    }
  }
  const interests = new Map<string, { value: number; ref: number }>()
  for (const [field, raw] of Object.entries(state.interests)) {
    if (field.endsWith('@')) {
      continue
    }
    const value = Number(raw)
    const ref = Number(state.interests[refField(field)])
    if (Number.isFinite(value) && Number.isFinite(ref)) {
      interests.set(field.toLowerCase(), { value, ref })
    }
  }
  const score = num(PROFILE_FIELDS.score)
  const scoreRef = num(refField(PROFILE_FIELDS.score))
  const first = num(PROFILE_FIELDS.first)
  const last = num(PROFILE_FIELDS.last)
  const out: Derived = {
    purchases: num(PROFILE_FIELDS.purchases) ?? 0,
    counts,
    interests,
    ...(score !== undefined && { score }),
    ...(scoreRef !== undefined && { scoreRef }),
    ...(first !== undefined && { first }),
    ...(last !== undefined && { last }),
  }
  derived.set(state, out)
  return out
}

/**
 * A shopper's recent event replayed as a triggering event happening `now`: what the admin
 * preview and "test on a profile" evaluate a rule against (the recent list keeps only the
 * fields rules read, so props hold productId, category, price and name).
 */
export function eventFromRecent(last: RecentEvent, siteId: string, now: number): StoredEvent {
  return {
    id: last.id,
    type: last.type,
    v: 1,
    ts: now,
    receivedAt: now,
    siteId,
    verified: false,
    ...(last.url !== undefined && { context: { url: last.url } }),
    props: {
      ...(last.item !== undefined && { productId: last.item }),
      ...(last.category !== undefined && { category: last.category }),
      ...(last.price !== undefined && { price: last.price }),
      ...(last.name !== undefined && { name: last.name }),
    },
  } as StoredEvent
}
