/**
 * @module The crash tests' oracle: from the events a test sent (native client events, with the
 * site that sent them and whether their userId was proven), what every shopper's live profile
 * must hold once everything is processed — counts, first and last seen, purchases, and the
 * engagement score and category interests as decayed sums at a reference time. Pure: it never
 * reads Redis, so a lost or doubled update shows up as a difference, not as a shared mistake.
 * It shares only the pure per-event mapping (profileDelta, the weight table) with the workers.
 *
 * Rules it encodes (DESIGN "Nothing counts twice", issue 3 item 2):
 * - An event id counts once, however often it was sent. Retries must be identical: a reused id
 *   with other content is refused, because which copy wins would depend on timing.
 * - Profile key: streams/partition.ts `profileKey` (proven userId, else anonymousId, else the
 *   claimed userId kept apart).
 * - A proven UserLoggedIn with an anonymousId merges that anonymous profile into the user's,
 *   once per pair; the anonymous profile stays as it was. The merge copies the anonymous profile
 *   as it is when the login is processed, so the oracle is exact only when every anonymous event
 *   was processed before the login: the caller must wait for that before sending the login, and
 *   an anonymous event sent after its profile was merged is refused (its fate depends on order).
 * - No shopper may have more categories than the workers keep (PROFILE_LIMITS.interestsCap):
 *   past the cap the weakest is dropped, which depends on order. Callers keep below it.
 */
import type { ClientEvent, EventType, StoredEvent } from '../streams/events'
import { profileKey } from '../streams/partition'
import {
  DEFAULT_WEIGHTS,
  decayedValue,
  profileDelta,
  type Weights,
} from '../workers/domain/profile-delta'

/** One event as a test sent it: the client event, its site, and whether userId was proven. */
export type SentEvent = { siteId: string; verified: boolean; event: ClientEvent }

/** What one profile must hold. Decayed sums are their values at the oracle's `at`. */
export type ExpectedProfile = {
  key: string
  /** Events counted (own and merged in). */
  n: number
  counts: Partial<Record<EventType, number>>
  first: number
  last: number
  /** Order lines bought. */
  purchases: number
  /** Item → time of its last purchase. */
  bought: Record<string, number>
  score: number
  interests: Record<string, number>
  /** Anonymous profile keys merged into this one. */
  mergedFrom: string[]
}

export type OracleOptions = {
  /** Reference time (epoch ms) at which decayed sums are given. */
  at: number
  weights?: Weights
}

/** A profile as read from Redis: the profile hash, the interests hash, the bought set. */
export type StoredProfile = {
  hash: Record<string, string>
  interests: Record<string, string>
  bought: Record<string, number>
}

/**
 * Every profile the sent events must have produced, by profile key.
 * @example const expected = expectedProfiles(sent, { at: lastTs })
 */
export function expectedProfiles(
  sent: readonly SentEvent[],
  opts: OracleOptions,
): Map<string, ExpectedProfile> {
  const weights = opts.weights ?? DEFAULT_WEIGHTS
  const seen = new Map<string, string>()
  const own = new Map<string, StoredEvent[]>()
  const merges = new Map<string, Set<string>>()
  const merged = new Set<string>()

  for (const item of sent) {
    const { event, siteId, verified } = item
    const copy = JSON.stringify(item)
    const before = seen.get(event.id)
    if (before !== undefined) {
      if (before !== copy) {
        throw new Error(`event id ${event.id} was sent twice with different content`)
      }
      continue
    }
    seen.set(event.id, copy)
    if (verified && event.userId === undefined) {
      throw new Error(`event ${event.id} is verified but has no userId; the api never stores that`)
    }
    const key = profileKey(siteId, { ...event, verified })
    if (merged.has(key)) {
      throw new Error(
        `event ${event.id} for ${key} was sent after that profile was merged into a user: whether the user's profile holds it depends on processing order`,
      )
    }
    const stored: StoredEvent = { ...event, siteId, verified, receivedAt: 0 }
    const list = own.get(key)
    if (list) {
      list.push(stored)
    } else {
      own.set(key, [stored])
    }
    if (event.type === 'UserLoggedIn' && verified && event.anonymousId !== undefined) {
      const anon = profileKey(siteId, { anonymousId: event.anonymousId, verified: false })
      const into = merges.get(key) ?? new Set<string>()
      into.add(anon)
      merges.set(key, into)
      merged.add(anon)
    }
  }

  const out = new Map<string, ExpectedProfile>()
  for (const [key, events] of own) {
    const from = [...(merges.get(key) ?? [])].sort()
    const all = [...events, ...from.flatMap((anon) => own.get(anon) ?? [])]
    out.set(key, summarise(key, all, from, opts.at, weights))
  }
  return out
}

function summarise(
  key: string,
  events: readonly StoredEvent[],
  mergedFrom: string[],
  at: number,
  weights: Weights,
): ExpectedProfile {
  const profile: ExpectedProfile = {
    key,
    n: 0,
    counts: {},
    first: Number.POSITIVE_INFINITY,
    last: Number.NEGATIVE_INFINITY,
    purchases: 0,
    bought: {},
    score: 0,
    interests: {},
    mergedFrom,
  }
  for (const event of events) {
    profile.n += 1
    profile.counts[event.type] = (profile.counts[event.type] ?? 0) + 1
    profile.first = Math.min(profile.first, event.ts)
    profile.last = Math.max(profile.last, event.ts)
    const delta = profileDelta(event, weights)
    if (delta.score !== 0) {
      profile.score += decayedValue(delta.score, event.ts, at, weights.halfLifeMs)
      // An empty category names nothing; interest grows by the weight's size, never shrinks.
      if (delta.category) {
        const grown = decayedValue(Math.abs(delta.score), event.ts, at, weights.halfLifeMs)
        profile.interests[delta.category] = (profile.interests[delta.category] ?? 0) + grown
      }
    }
    for (const item of delta.bought) {
      profile.purchases += 1
      profile.bought[item] = Math.max(profile.bought[item] ?? Number.NEGATIVE_INFINITY, event.ts)
    }
  }
  return profile
}

/** True when two decayed sums agree up to floating-point noise. */
export function closeEnough(a: number, b: number, relative = 1e-9): boolean {
  return Math.abs(a - b) <= relative * Math.max(1, Math.abs(a), Math.abs(b))
}

/**
 * How a stored profile differs from the expected one: one line per difference, empty when it
 * matches. Counts, times and purchases must match exactly; decayed sums (stored as value at a
 * reference time, `<field>@`) are brought to `at` and compared within floating-point noise.
 * @example expect(diffProfile(expected, stored, { at })).toEqual([])
 */
export function diffProfile(
  expected: ExpectedProfile,
  stored: StoredProfile,
  opts: OracleOptions,
): string[] {
  const halfLifeMs = (opts.weights ?? DEFAULT_WEIGHTS).halfLifeMs
  const { hash } = stored
  if (Object.keys(hash).length === 0) {
    return [`${expected.key}: missing (expected n=${expected.n})`]
  }
  const out: string[] = []
  const exact = (field: string, want: number, got: string | undefined) => {
    if (Number(got ?? 0) !== want) {
      out.push(`${expected.key}: ${field} is ${got ?? 'absent'}, expected ${want}`)
    }
  }
  exact('n', expected.n, hash.n)
  const types = new Set([
    ...Object.keys(expected.counts),
    ...Object.keys(hash)
      .filter((field) => field.startsWith('n:'))
      .map((field) => field.slice(2)),
  ])
  for (const type of [...types].sort()) {
    exact(`n:${type}`, expected.counts[type as EventType] ?? 0, hash[`n:${type}`])
  }
  exact('first', expected.first, hash.first)
  exact('last', expected.last, hash.last)
  exact('purchases', expected.purchases, hash.purchases)

  const decayed = (from: Record<string, string>, field: string) => {
    const value = from[field]
    return value === undefined
      ? 0
      : decayedValue(Number(value), Number(from[`${field}@`]), opts.at, halfLifeMs)
  }
  const score = decayed(hash, 'score')
  if (!closeEnough(score, expected.score)) {
    out.push(`${expected.key}: score at ${opts.at} is ${score}, expected ${expected.score}`)
  }
  const categories = new Set([
    ...Object.keys(expected.interests),
    ...Object.keys(stored.interests).filter((field) => !field.endsWith('@')),
  ])
  for (const category of [...categories].sort()) {
    const got = decayed(stored.interests, category)
    const want = expected.interests[category] ?? 0
    if (!(category in stored.interests) || !(category in expected.interests)) {
      out.push(`${expected.key}: interest ${category} is ${got}, expected ${want}`)
    } else if (!closeEnough(got, want)) {
      out.push(`${expected.key}: interest ${category} at ${opts.at} is ${got}, expected ${want}`)
    }
  }
  const items = new Set([...Object.keys(expected.bought), ...Object.keys(stored.bought)])
  for (const item of [...items].sort()) {
    if (stored.bought[item] !== expected.bought[item]) {
      out.push(
        `${expected.key}: bought ${item} at ${stored.bought[item] ?? 'never'}, expected ${expected.bought[item] ?? 'never'}`,
      )
    }
  }
  return out
}
