/**
 * @module Keeps each shopper's personal list (`profile:{u}:recs`) fresh: once per job per
 * distinct shopper with item events, read the lists workers/domain/personal.ts asks for, blend
 * them and replace the stored list atomically (set-recs-1.lua, sent with the job's profiles). Reads join the job's write
 * pipeline (after the writes, so they see this job's pairs); every key is read at most once per
 * job however many shoppers need it, and item weights, trending lists (the same for every
 * shopper of a site) and neighbour lists of items the job did not touch come from the step's
 * short-lived caches when they have them (recommendations-cache.ts).
 *
 * Precomputed rather than computed at read time: the offers processor needs the list on the
 * event path anyway, and the api then answers with one sorted-set read.
 */
import type { ChainableCommander } from 'ioredis'
import type { StoredEvent } from '../../streams/events'
import type { Keys } from '../../streams/keys'
import { ITEM_WEIGHT_FIELD } from '../../streams/recommendations'
import type { Interaction } from '../domain/co-occurrence'
import {
  type PersonalSources,
  personalRecs,
  personalSources,
  type Ranked,
} from '../domain/personal'
import type { ScriptClient } from '../scripts/load'
import { type RecCaches, trendingKey, weightKey } from './recommendations-cache'
import { flatPairs } from './redis-replies'

/** One shopper of a job, with what the step knows about them. */
export type Shopper = {
  site: string
  profile: string
  events: StoredEvent[]
  /** Stored history plus the job's events, in no particular order. */
  history: Interaction[]
  bought: Set<string>
  /** Category → decayed interest at the shopper's latest event, plus the job's events. */
  interests: Record<string, number>
}

export const PERSONAL_LIMITS = {
  /** Neighbours read per source item; trending items per category; site-wide trending. */
  neighboursRead: 20,
  trendingRead: 20,
  globalRead: 50,
  /** A shopper who stops coming back stops costing memory. */
  recsTtlMs: 30 * 24 * 3_600_000,
  /**
   * A list older than this is recomputed on the shopper's next login too (not only on item
   * events), before a welcome-back offer reads it.
   */
  refreshAfterMs: 10 * 60_000,
} as const

/** Where a value comes from: known already, or the reply at this index of the pipeline. */
type Source<T> = { value: T } | { at: number }

/** What one shopper's blend needs, located. */
export type PersonalPlan = {
  shopper: Shopper
  sources: PersonalSources
  neighbours: { item: string; list: Source<Ranked>; n: Source<number> }[]
  trending: { category: string | undefined; list: Source<Ranked> }[]
}

/**
 * Queues the reads the shoppers' blends need on `pipeline` (after its writes) and says where
 * each input will be. `written` locates the item weights this job's writes return.
 * @example const plans = planPersonal(pipeline, keys, shoppers, caches, written, Date.now())
 */
export function planPersonal(
  pipeline: ChainableCommander,
  keys: Keys,
  shoppers: readonly Shopper[],
  caches: RecCaches,
  written: ReadonlyMap<string, number>,
  now: number,
): PersonalPlan[] {
  let queued = (pipeline as unknown as { length: number }).length
  const index = new Map<string, number>()
  const read = (key: string, queue: () => void): number => {
    let at = index.get(key)
    if (at === undefined) {
      at = queued++
      queue()
      index.set(key, at)
    }
    return at
  }
  const trendingOf = (site: string, category?: string): Source<Ranked> => {
    const cached = caches.trending.get(trendingKey(site, category), now)
    if (cached) {
      return { value: cached }
    }
    const key = keys.recTrending(site, category)
    const count = category === undefined ? PERSONAL_LIMITS.globalRead : PERSONAL_LIMITS.trendingRead
    return { at: read(key, () => pipeline.zrevrange(key, 0, count - 1, 'WITHSCORES')) }
  }

  return shoppers.map((shopper) => {
    const sources = personalSources(shopper.history, shopper.interests)
    const neighbours = sources.items.map(([item]) => {
      const cacheKey = weightKey(shopper.site, item)
      const fresh = written.get(cacheKey)
      const cachedN = caches.weights.get(cacheKey, now)
      const itemKey = keys.recItem(shopper.site, item)
      const n: Source<number> =
        fresh !== undefined
          ? { at: fresh }
          : cachedN !== undefined
            ? { value: cachedN }
            : { at: read(itemKey, () => pipeline.hget(itemKey, ITEM_WEIGHT_FIELD)) }
      const cachedList = fresh === undefined ? caches.neighbours.get(cacheKey, now) : undefined
      const key = keys.recNeighbours(shopper.site, item)
      const count = PERSONAL_LIMITS.neighboursRead
      const list: Source<Ranked> = cachedList
        ? { value: cachedList }
        : { at: read(key, () => pipeline.zrevrange(key, 0, count - 1, 'WITHSCORES')) }
      return { item, n, list }
    })
    const trending = [
      ...sources.categories.map(([category]) => ({
        category: category as string | undefined,
        list: trendingOf(shopper.site, category),
      })),
      { category: undefined, list: trendingOf(shopper.site) },
    ]
    return { shopper, sources, neighbours, trending }
  })
}

/**
 * Blends every planned shopper's list from the pipeline's `results` and queues storing them on
 * `write` (the events processor sends it with the profiles). Trending lists read for the plans
 * are cached for the next jobs.
 * @example queuePersonal(pipeline, keys, plans, await replies(read), caches, Date.now())
 */
export function queuePersonal(
  write: ChainableCommander,
  keys: Keys,
  plans: readonly PersonalPlan[],
  results: readonly unknown[],
  caches: RecCaches,
  now: number,
): void {
  const ranked = (reply: unknown): Ranked => flatPairs((reply as string[] | null) ?? [])
  const resolve = <T>(source: Source<T>, parse: (reply: unknown) => T): T =>
    'value' in source ? source.value : parse(results[source.at])
  const scripted = write as unknown as ScriptClient
  for (const plan of plans) {
    const { site } = plan.shopper
    const trending = plan.trending.map(({ category, list: source }) => {
      const list = resolve(source, ranked)
      if ('at' in source) {
        caches.trending.set(trendingKey(site, category), list, now)
      }
      return [category, list] as const
    })
    const neighbours = plan.neighbours.map(({ item, list: source, n }) => {
      const list = resolve(source, ranked)
      if ('at' in source) {
        caches.neighbours.set(weightKey(site, item), list, now)
      }
      return [item, { n: resolve(n, (reply) => Number(reply ?? 0)), list }] as const
    })
    const recs = personalRecs({
      ...plan.sources,
      bought: plan.shopper.bought,
      neighbours: new Map(neighbours),
      trending: new Map(
        trending.flatMap(([category, ranked]) =>
          category === undefined ? [] : [[category, ranked] as const],
        ),
      ),
      global: trending.find(([category]) => category === undefined)?.[1] ?? [],
    })
    const args: (string | number)[] = []
    for (const [item, score] of recs) {
      args.push(score, item)
    }
    scripted.nudgeSetRecs(
      keys.profileRecs(plan.shopper.profile),
      PERSONAL_LIMITS.recsTtlMs,
      ...args,
    )
  }
}
