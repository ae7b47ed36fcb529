/**
 * @module The profile processor: applies a job's events to each shopper's live profile, exactly
 * once per event id (apply-events-7.lua, one call per shopper per job), and merges an anonymous profile into the user's on a
 * proven login, exactly once per pair (merge-profile-6.lua). One round trip per step per job.
 */
import type { ChainableCommander, Redis } from 'ioredis'
import type { StoredEvent } from '../../streams/events'
import type { Keys } from '../../streams/keys'
import { profileKey } from '../../streams/partition'
import { profileDelta, type Weights } from '../domain/profile-delta'
import { withScripts } from '../scripts/load'
import { replies } from './redis-replies'

export type ProfileStore = {
  redis: Redis
  keys: Keys
  /** Default weights and the half-life shared by every site. */
  weights: Weights
  /** Per-site weights (defaults + overrides); `weights` for every site when absent. */
  weightsFor?: (siteId: string) => Promise<Weights>
  /** Markers older than this are dropped: the log no longer holds their events. */
  retentionMs: number
  /**
   * A profile's keys expire this long after its latest applied event (NUDGE_PROFILE_TTL); at
   * least `retentionMs`. Default: a year.
   */
  ttlMs?: number
  /** Recent events kept per shopper (what rule conditions can look back on). */
  recentCap: number
  /** Categories of interest kept per shopper. */
  interestsCap: number
}

/** Writes a step queues on the pipeline that applies a job's profiles, ahead of them. */
export type QueueWrites = (pipeline: ChainableCommander) => void

/** The profile TTL where none is configured (tests, tools): a year. */
const PROFILE_DEFAULT_TTL_MS = 365 * 24 * 3_600_000

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

/** Most recently active shoppers kept per site in `siteShoppers` (about 60 bytes each). */
export const SHOPPERS_KEPT = 100_000

/**
 * Marks the job's shoppers as active at the latest receivedAt of their events, per site (GT:
 * a redelivered old job never moves a shopper back), and keeps the newest SHOPPERS_KEPT. Best
 * effort and idempotent: it only orders shoppers for the console's preview.
 */
function queueActiveShoppers(
  pipeline: ChainableCommander,
  keys: Keys,
  groups: ReadonlyMap<string, readonly StoredEvent[]>,
): void {
  const bySite = new Map<string, (string | number)[]>()
  for (const [profile, group] of groups) {
    const site = group[0]?.siteId as string
    let members = bySite.get(site)
    if (!members) {
      members = []
      bySite.set(site, members)
    }
    members.push(Math.max(...group.map((event) => event.receivedAt)), profile)
  }
  for (const [site, members] of bySite) {
    pipeline.zadd(keys.siteShoppers(site), 'GT', ...members)
    pipeline.zremrangebyrank(keys.siteShoppers(site), 0, -(SHOPPERS_KEPT + 1))
  }
}

/** A job's events grouped by the profile they count for, each group in job order. */
export function byProfile(events: readonly StoredEvent[]): Map<string, StoredEvent[]> {
  const groups = new Map<string, StoredEvent[]>()
  for (const event of events) {
    const profile = profileOf(event)
    const group = groups.get(profile)
    if (group) {
      group.push(event)
    } else {
      groups.set(profile, [event])
    }
  }
  return groups
}

/**
 * Applies events to their profiles, one apply-events-7.lua call per shopper, in one round trip
 * with `before` (other steps' writes, sent ahead of the profiles); resolves to how many events
 * were new (the rest were applied before and changed nothing).
 * @example const applied = await applyProfiles(store, job.events, Date.now())
 */
export async function applyProfiles(
  store: ProfileStore,
  events: readonly StoredEvent[],
  now: number,
  before: readonly QueueWrites[] = [],
): Promise<number> {
  if (events.length === 0 && before.length === 0) {
    return 0
  }
  const bySite = new Map<string, Weights>()
  for (const siteId of new Set(events.map((e) => e.siteId))) {
    bySite.set(siteId, store.weightsFor ? await store.weightsFor(siteId) : store.weights)
  }
  const groups = byProfile(events)
  const pipeline = withScripts(store.redis.pipeline() as unknown as Redis)
  for (const queue of before) {
    queue(pipeline as unknown as ChainableCommander)
  }
  const first = (pipeline as unknown as { length: number }).length
  for (const [profile, group] of groups) {
    const weights = bySite.get(group[0]?.siteId ?? '') ?? store.weights
    const args: (string | number)[] = [
      ...profileKeys(store.keys, profile),
      // Renewed with the profile: a merge marker or audience anchor never outlives it.
      store.keys.profileMerged(profile),
      store.keys.profileAnchor(profile),
      // The site's own half-life: readers decay with the same one (findEventWeights).
      weights.halfLifeMs,
      store.recentCap,
      store.interestsCap,
      now - store.retentionMs,
      store.ttlMs ?? PROFILE_DEFAULT_TTL_MS,
    ]
    for (const event of group) {
      const delta = profileDelta(event, weights)
      args.push(
        event.id,
        event.receivedAt,
        event.ts,
        event.type,
        delta.score,
        delta.category ?? '',
        JSON.stringify(delta.recent),
        delta.bought.length,
        ...delta.bought,
      )
    }
    pipeline.nudgeApplyEvents(...args)
  }
  if (groups.size > 0) {
    // Best effort, outside the profile's slot: a lost mark only delays a snapshot to the next change.
    pipeline.sadd(store.keys.profilesDirty(), ...groups.keys())
    queueActiveShoppers(pipeline as unknown as ChainableCommander, store.keys, groups)
  }
  const results = await replies(pipeline as unknown as ChainableCommander)
  let applied = 0
  for (const reply of results.slice(first, first + groups.size)) {
    applied += Number(reply)
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
      store.ttlMs ?? PROFILE_DEFAULT_TTL_MS,
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
