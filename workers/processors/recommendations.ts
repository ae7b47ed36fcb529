/**
 * @module The recommendations step (a `BeforeProfiles` step of the events processor): for a
 * job's fresh events it strengthens item pairs (co-occurrence), adds to trending, and
 * recomputes the personal list of every shopper in the job. At most three round trips per job
 * of its own, whatever its size: read the shoppers' history and which of their events are
 * already applied (a redelivered job stops there); read the weights of pair items the process
 * does not have cached (usually skipped); write (rec-item-2, trending-sets) and read the personal
 * inputs in one pipeline. The personal lists are stored in the profiles' round trip, ahead of
 * the profiles. Commands, not only round trips, cost CPU on both sides (a loopback write is a
 * syscall that also wakes Redis), so item weights and trending lists are cached in the process
 * (recommendations-cache.ts) and every Redis key is read at most once per job.
 *
 * Delivery is at-least-once. Item and trending sets live in other Redis Cluster slots than the
 * shopper, so they cannot join the profile's exactly-once script; a job that crashes after this
 * step and before its profiles are applied re-runs it. The double count is harmless: it adds
 * one shopper's pairs and views twice to sets that sum thousands of shoppers, it decays away
 * (trending) or is divided by the items' popularity (neighbours), and rankings, not exact
 * figures, are what these sets serve. Jobs of one shopper processed concurrently may miss a
 * pair between them for the same reason: each reads history before the other applied it.
 */
import type { ChainableCommander, Redis } from 'ioredis'
import type { StoredEvent } from '../../streams/events'
import type { Keys } from '../../streams/keys'
import { decayedFields, PROFILE_HALF_LIFE_MS, recentEvent } from '../../streams/profile'
import { ITEM_WEIGHT_FIELD, trendingEpochField } from '../../streams/recommendations'
import { fromRecent, INTERACTION_WEIGHT, interactionsOf, pairsFor } from '../domain/co-occurrence'
import { TRENDING, trendingUpdates } from '../domain/trending'
import { type ScriptClient, withScripts } from '../scripts/load'
import type { BeforeProfiles } from './events'
import { profileOf } from './profile'
import { createRecCaches, type RecCaches, weightKey } from './recommendations-cache'
import {
  PERSONAL_LIMITS,
  planPersonal,
  queuePersonal,
  type Shopper,
} from './recommendations-personal'
import { flatPairs, flatRecord, replies } from './redis-replies'

export type RecommendationsStore = {
  redis: Redis
  keys: Keys
  /**
   * The half-life a site's interests were written with (its weights, workers/site-weights.ts);
   * the default week for every site when absent.
   */
  halfLifeFor?: (siteId: string) => Promise<number>
}

/** Bounds on memory and work per item, per shopper and per job. */
export const REC_LIMITS = {
  /** Neighbours kept per item, and how far past it a set grows before it is trimmed. */
  neighbours: 100,
  neighboursSlack: 25,
  /** Item keys untouched this long expire: dead items vanish. */
  itemTtlMs: 90 * 24 * 3_600_000,
  /** Recent-event entries read per shopper (the newest; the profile keeps 50). */
  recentRead: 24,
  /** Purchases read per shopper (the newest), for exclusion and bought-together. */
  boughtRead: 100,
} as const

/** Events that mark a shopper's visit: their stale personal list is refreshed. */
const VISIT_TYPES: ReadonlySet<string> = new Set(['UserLoggedIn', 'PageViewed'])

/** Per site: item popularity increments and pair increments (both directions). */
type SiteWork = {
  events: StoredEvent[]
  weight: Map<string, number>
  pairs: Map<string, Map<string, number>>
}

/**
 * @example const process = createEventsProcessor(profiles, [createRecommendationsStep({ redis, keys })])
 */
export function createRecommendationsStep(
  store: RecommendationsStore,
  caches: RecCaches = createRecCaches(),
): BeforeProfiles {
  const redis = withScripts(store.redis)
  const { keys } = store
  return async (events) => {
    const shoppers = await loadShoppers(redis, keys, events, store.halfLifeFor)
    if (shoppers.size === 0) {
      return undefined
    }
    const now = Date.now()
    const sites = strengthen(shoppers)
    const weights = await readWeights(redis, keys, sites, caches, now)
    const write = redis.pipeline()
    const written = queueWrites(write as unknown as ScriptClient, keys, sites, weights)
    const plans = planPersonal(write, keys, [...shoppers.values()], caches, written, now)
    const results = await replies(write)
    for (const [key, at] of written) {
      caches.weights.set(key, Number(results[at]), now)
    }
    return (pipeline) => queuePersonal(pipeline, keys, plans, results, caches, now)
  }
}

/**
 * Round trip 1: of every shopper with item events, which of those events are already applied
 * to the profile (they are dropped: their pairs were counted when they were applied), and the
 * history, purchases and interests. Shoppers left with no fresh events are not returned.
 *
 * A shopper who logs in or views a page with no item event in the job (a shopper coming back)
 * gets their existing personal list recomputed when it is older than
 * PERSONAL_LIMITS.refreshAfterMs: the neighbours and trending it was made from have moved on
 * since, and a welcome-back offer or the store's page reads it next. That costs one PTTL per
 * such shopper in this read, and the recompute at most once per refreshAfterMs per shopper. A
 * list is refreshed before a login merges the anonymous profile, so it does not yet hold this
 * visit's anonymous browsing (the next item event adds it).
 */
async function loadShoppers(
  redis: ScriptClient,
  keys: Keys,
  events: readonly StoredEvent[],
  halfLifeFor: (siteId: string) => Promise<number> = async () => PROFILE_HALF_LIFE_MS,
): Promise<Map<string, Shopper>> {
  const shoppers = new Map<string, Shopper>()
  /** Profile → site of the shoppers with no item event in the job. */
  const others = new Map<string, string>()
  for (const event of events) {
    const profile = profileOf(event)
    if (interactionsOf(event).length === 0) {
      if (VISIT_TYPES.has(event.type) && !shoppers.has(profile)) {
        others.set(profile, event.siteId)
      }
      continue
    }
    others.delete(profile)
    const shopper = shoppers.get(profile)
    if (shopper) {
      shopper.events.push(event)
    } else {
      shoppers.set(profile, newShopper(event.siteId, profile, [event]))
    }
  }
  if (shoppers.size === 0 && others.size === 0) {
    return shoppers
  }
  const read = redis.pipeline() as unknown as ScriptClient
  for (const { profile, events: mine } of shoppers.values()) {
    read.zmscore(keys.profileApplied(profile), ...mine.map((event) => event.id))
    readHistory(read, keys, profile)
  }
  for (const profile of others.keys()) {
    read.pttl(keys.profileRecs(profile))
  }
  const results = await replies(read as unknown as ChainableCommander)
  let i = 0
  for (const shopper of [...shoppers.values()]) {
    const applied = results[i++] as (string | null)[]
    const history = results[i++] as [string[], string[], string[]]
    shopper.events = shopper.events.filter((_, k) => applied[k] === null)
    if (shopper.events.length === 0) {
      shoppers.delete(shopper.profile)
      continue
    }
    fillShopper(shopper, history, await halfLifeFor(shopper.site))
  }
  const stale: Shopper[] = []
  for (const [profile, site] of others) {
    const ttl = Number(results[i++])
    // Only an existing list (set-recs-1 always sets its TTL) is refreshed. No list (-2) means
    // no item ever touched, or none for the list's 30 days: the api answers those with
    // trending, and most such visitors leave after a page or two, so they cost one PTTL.
    if (ttl >= 0 && PERSONAL_LIMITS.recsTtlMs - ttl > PERSONAL_LIMITS.refreshAfterMs) {
      stale.push(newShopper(site, profile, []))
    }
  }
  if (stale.length > 0) {
    const again = redis.pipeline() as unknown as ScriptClient
    for (const { profile } of stale) {
      readHistory(again, keys, profile)
    }
    const histories = await replies(again as unknown as ChainableCommander)
    for (const [k, shopper] of stale.entries()) {
      fillShopper(
        shopper,
        histories[k] as [string[], string[], string[]],
        await halfLifeFor(shopper.site),
      )
      shoppers.set(shopper.profile, shopper)
    }
  }
  return shoppers
}

function newShopper(site: string, profile: string, events: StoredEvent[]): Shopper {
  return { site, profile, events, history: [], bought: new Set(), interests: {} }
}

function readHistory(read: ScriptClient, keys: Keys, profile: string): void {
  read.nudgeReadHistory(
    keys.profileRecent(profile),
    keys.profileBought(profile),
    keys.profileInterests(profile),
    REC_LIMITS.recentRead,
    REC_LIMITS.boughtRead,
  )
}

/** Fills a shopper's history, purchases and interests from a read-history-3 reply. */
function fillShopper(
  shopper: Shopper,
  [recent, bought, interests]: [string[], string[], string[]],
  halfLifeMs: number,
): void {
  for (const json of recent) {
    const parsed = recentEvent.safeParse(safeJson(json))
    const interaction = parsed.success ? fromRecent(parsed.data) : undefined
    if (interaction) {
      shopper.history.push(interaction)
    }
  }
  for (const [item, ts] of flatPairs(bought)) {
    shopper.history.push({ item, kind: 'order', ts })
    shopper.bought.add(item)
  }
  const latest = Math.max(...shopper.events.map((e) => e.ts), ...shopper.history.map((h) => h.ts))
  shopper.interests = decayedFields(
    flatRecord(interests),
    Number.isFinite(latest) ? latest : Date.now(),
    halfLifeMs,
  )
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/**
 * Pairs and popularity of every shopper's events, each event pairing with the shopper's stored
 * history and the job's earlier events. Extends each shopper's history, purchases and interests
 * with the job's events, for the personal lists.
 */
function strengthen(shoppers: Map<string, Shopper>): Map<string, SiteWork> {
  const sites = new Map<string, SiteWork>()
  for (const shopper of shoppers.values()) {
    let site = sites.get(shopper.site)
    if (!site) {
      site = { events: [], weight: new Map(), pairs: new Map() }
      sites.set(shopper.site, site)
    }
    for (const event of shopper.events) {
      site.events.push(event)
      const fresh = interactionsOf(event)
      for (const { a, b, weight } of pairsFor(shopper.history, fresh)) {
        addPair(site.pairs, a, b, weight)
        addPair(site.pairs, b, a, weight)
      }
      for (const interaction of fresh) {
        const w = INTERACTION_WEIGHT[interaction.kind]
        site.weight.set(interaction.item, (site.weight.get(interaction.item) ?? 0) + w)
        if (interaction.kind === 'order') {
          shopper.bought.add(interaction.item)
        }
      }
      shopper.history.push(...fresh)
      const category = 'category' in event.props ? event.props.category : undefined
      if (typeof category === 'string') {
        shopper.interests[category] =
          (shopper.interests[category] ?? 0) + INTERACTION_WEIGHT[fresh[0]?.kind ?? 'view']
      }
    }
  }
  return sites
}

function addPair(pairs: Map<string, Map<string, number>>, a: string, b: string, weight: number) {
  let row = pairs.get(a)
  if (!row) {
    row = new Map()
    pairs.set(a, row)
  }
  row.set(b, (row.get(b) ?? 0) + weight)
}

/**
 * Round trip 2 (only for items the process has no fresh weight of): the weight n of every item
 * in a pair, after this job's increments. An item with no stored weight (new, or expired while
 * still in a shopper's history) counts as one view, so a pair never divides by zero.
 */
async function readWeights(
  redis: Redis,
  keys: Keys,
  sites: Map<string, SiteWork>,
  caches: RecCaches,
  now: number,
): Promise<Map<string, number>> {
  const weights = new Map<string, number>()
  const read = redis.pipeline()
  const missing: [string, number][] = []
  for (const [siteId, site] of sites) {
    for (const item of site.pairs.keys()) {
      const key = weightKey(siteId, item)
      const cached = caches.weights.get(key, now)
      const added = site.weight.get(item) ?? 0
      if (cached === undefined) {
        read.hget(keys.recItem(siteId, item), ITEM_WEIGHT_FIELD)
        missing.push([key, added])
      } else {
        weights.set(key, Math.max(cached + added, INTERACTION_WEIGHT.view))
      }
    }
  }
  const results = missing.length === 0 ? [] : await replies(read)
  missing.forEach(([key, added], i) => {
    weights.set(key, Math.max(Number(results[i] ?? 0) + added, INTERACTION_WEIGHT.view))
  })
  return weights
}

/**
 * Queues round trip 3's writes: one rec-item-2 call per touched item, one trending-sets per site.
 * Returns where each rec-item-2 reply (the item's new weight) will be, by weight cache key.
 */
function queueWrites(
  write: ScriptClient,
  keys: Keys,
  sites: Map<string, SiteWork>,
  weights: Map<string, number>,
): Map<string, number> {
  const written = new Map<string, number>()
  for (const [siteId, site] of sites) {
    const items = new Set([...site.weight.keys(), ...site.pairs.keys()])
    for (const item of items) {
      const args: (string | number)[] = []
      for (const [neighbour, weight] of site.pairs.get(item) ?? []) {
        args.push(neighbour, weight / Math.sqrt(weights.get(weightKey(siteId, neighbour)) ?? 1))
      }
      written.set(weightKey(siteId, item), (write as unknown as { length: number }).length)
      write.nudgeRecItem(
        keys.recNeighbours(siteId, item),
        keys.recItem(siteId, item),
        REC_LIMITS.itemTtlMs,
        site.weight.get(item) ?? 0,
        REC_LIMITS.neighbours,
        REC_LIMITS.neighboursSlack,
        ...args,
      )
    }
    queueTrending(write, keys, siteId, site.events)
  }
  return written
}

/** Most sets per trending-sets call: Lua's unpack holds ~8,000 values, and HMGET takes them all. */
const TRENDING_SETS_PER_CALL = 500

/** Queues trending-sets calls for every set of the site this batch touches (one usually). */
function queueTrending(
  write: ScriptClient,
  keys: Keys,
  siteId: string,
  events: readonly StoredEvent[],
): void {
  const updates = [...trendingUpdates(events)]
  for (let from = 0; from < updates.length; from += TRENDING_SETS_PER_CALL) {
    const sets: string[] = []
    const args: (string | number)[] = [
      TRENDING.halfLifeMs,
      TRENDING.rebaseAfterMs,
      TRENDING.cap,
      TRENDING.slack,
      TRENDING.maxCategories,
      REC_LIMITS.itemTtlMs,
    ]
    for (const [category, increments] of updates.slice(from, from + TRENDING_SETS_PER_CALL)) {
      sets.push(keys.recTrending(siteId, category))
      args.push(trendingEpochField(category), category ?? '', increments.length)
      for (const { item, weight, t } of increments) {
        args.push(item, weight, t)
      }
    }
    write.nudgeTrending(
      2 + sets.length,
      keys.recTrendingEpochs(siteId),
      keys.recCategories(siteId),
      ...sets,
      ...args,
    )
  }
}
