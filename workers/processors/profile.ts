/**
 * @module The profile processor: applies a job's events to each shopper's live profile, exactly
 * once per event id (apply-event-5.lua), and merges an anonymous profile into the user's on a
 * proven login, exactly once per pair (merge-profile-6.lua). One round trip per step per job.
 */
import type { Redis } from 'ioredis'
import type { StoredEvent } from '../../streams/events'
import type { Keys } from '../../streams/keys'
import { profileKey } from '../../streams/partition'
import { profileDelta, type Weights } from '../domain/profile-delta'
import { withScripts } from '../scripts/load'

export type ProfileStore = {
  redis: Redis
  keys: Keys
  /** Default weights and the half-life shared by every site. */
  weights: Weights
  /** Per-site weights (defaults + overrides); `weights` for every site when absent. */
  weightsFor?: (siteId: string) => Promise<Weights>
  /** Markers older than this are dropped: the log no longer holds their events. */
  retentionMs: number
  /** Recent events kept per shopper (what rule conditions can look back on). */
  recentCap: number
  /** Categories of interest kept per shopper. */
  interestsCap: number
}

export const PROFILE_LIMITS = { recentCap: 50, interestsCap: 32 } as const

/** The profile an event counts for. */
export function profileOf(event: StoredEvent): string {
  return profileKey(event.siteId, event)
}

function profileKeys(keys: Keys, profile: string): string[] {
  return [
    keys.profile(profile),
    keys.profileApplied(profile),
    keys.profileRecent(profile),
    keys.profileBought(profile),
    keys.profileInterests(profile),
  ]
}

/**
 * The events not yet applied to their profile (a read; the apply step re-checks atomically).
 * Lets the recommendations step skip work a redelivered job already did.
 */
export async function unapplied(
  store: ProfileStore,
  events: readonly StoredEvent[],
): Promise<StoredEvent[]> {
  const pipeline = store.redis.pipeline()
  for (const event of events) {
    pipeline.zscore(store.keys.profileApplied(profileOf(event)), event.id)
  }
  const replies = (await pipeline.exec()) ?? []
  return events.filter((_, i) => {
    const [error, score] = replies[i] ?? [new Error('no reply'), null]
    if (error) {
      throw error
    }
    return score === null
  })
}

/**
 * Applies events to their profiles; resolves to how many were new (the rest were applied
 * before and changed nothing).
 * @example const applied = await applyProfiles(store, job.events, Date.now())
 */
export async function applyProfiles(
  store: ProfileStore,
  events: readonly StoredEvent[],
  now: number,
): Promise<number> {
  if (events.length === 0) {
    return 0
  }
  const bySite = new Map<string, Weights>()
  for (const siteId of new Set(events.map((e) => e.siteId))) {
    bySite.set(siteId, store.weightsFor ? await store.weightsFor(siteId) : store.weights)
  }
  const pipeline = withScripts(store.redis.pipeline() as unknown as Redis)
  for (const event of events) {
    const weights = bySite.get(event.siteId) ?? store.weights
    const delta = profileDelta(event, weights)
    pipeline.nudgeApplyEvent(
      ...profileKeys(store.keys, profileOf(event)),
      event.id,
      event.receivedAt,
      event.ts,
      event.type,
      delta.score,
      // The site's own half-life: readers decay with the same one (findEventWeights).
      weights.halfLifeMs,
      delta.category ?? '',
      JSON.stringify(delta.recent),
      store.recentCap,
      now - store.retentionMs,
      store.interestsCap,
      ...delta.bought,
    )
  }
  // Best effort, outside the profile's slot: a lost mark only delays a snapshot to the next change.
  pipeline.sadd(store.keys.profilesDirty(), ...new Set(events.map(profileOf)))
  const replies = (await (pipeline as unknown as ReturnType<Redis['pipeline']>).exec()) ?? []
  let applied = 0
  for (const [error, reply] of replies.slice(0, events.length)) {
    if (error) {
      throw error
    }
    applied += reply === 1 ? 1 : 0
  }
  return applied
}

/**
 * For each proven UserLoggedIn carrying an anonymousId, merges that anonymous profile into the
 * user's. Safe to repeat: the merge marker lives in the user's slot. Call it with every event
 * of a job, not only the unapplied ones: a worker that died after applying a login but before
 * merging must still merge when the job runs again.
 * @example await mergeOnLogin(store, job.events)
 */
export async function mergeOnLogin(
  store: ProfileStore,
  events: readonly StoredEvent[],
): Promise<void> {
  const { redis, keys } = store
  for (const event of events) {
    if (event.type !== 'UserLoggedIn' || !event.verified || event.anonymousId === undefined) {
      continue
    }
    const user = profileOf(event)
    const anon = profileKey(event.siteId, { anonymousId: event.anonymousId, verified: false })
    if ((await redis.sismember(keys.profileMerged(user), anon)) === 1) {
      continue
    }
    const [profile, interests, recent, bought] = await Promise.all([
      redis.hgetall(keys.profile(anon)),
      redis.hgetall(keys.profileInterests(anon)),
      redis.zrange(keys.profileRecent(anon), 0, -1, 'WITHSCORES'),
      redis.zrange(keys.profileBought(anon), 0, -1, 'WITHSCORES'),
    ])
    const snapshot = { profile, interests, recent: pairs(recent), bought: pairs(bought) }
    const weights = store.weightsFor ? await store.weightsFor(event.siteId) : store.weights
    await withScripts(redis).nudgeMergeProfile(
      ...profileKeys(keys, user),
      keys.profileMerged(user),
      anon,
      JSON.stringify(snapshot),
      weights.halfLifeMs,
      store.recentCap,
    )
  }
}

function pairs(flat: string[]): [string, number][] {
  const out: [string, number][] = []
  for (let i = 0; i < flat.length; i += 2) {
    out.push([flat[i] as string, Number(flat[i + 1])])
  }
  return out
}
