/**
 * @module A diagnostic for `npm run eval:recs`, not one of its four rows: the personal blend
 * (workers/domain/personal.ts, the very functions the workers call) recomputed for every
 * evaluated shopper from the pipeline's FINAL state, once per weight variant, then topped up
 * with trending as the read API does.
 *
 * Two questions it answers without touching product code:
 * - staleness: a shopper's stored list is computed at their own last event, from the
 *   neighbour and trending sets as they were then; the default variant recomputed now shows
 *   what the same blend scores with the same information the baselines get;
 * - weights: which change to `PERSONAL.weights` (e.g. `revisit`, `trending`) the data argues
 *   for.
 * Inputs are read as the workers read them (recommendations.ts `loadShoppers`,
 * recommendations-personal.ts `planPersonal`), with the same limits.
 */
import type { Redis } from 'ioredis'
import { profileKeyOf } from '../api/shopper-key'
import type { Keys } from '../streams/keys'
import { decayedFields, PROFILE_HALF_LIFE_MS, recentEvent } from '../streams/profile'
import { ITEM_WEIGHT_FIELD } from '../streams/recommendations'
import { fromRecent, type Interaction } from '../workers/domain/co-occurrence'
import {
  PERSONAL,
  type PersonalOptions,
  type PersonalSources,
  personalRecs,
  personalSources,
  type Ranked,
} from '../workers/domain/personal'
import { REC_LIMITS } from '../workers/processors/recommendations'
import { PERSONAL_LIMITS } from '../workers/processors/recommendations-personal'
import { flatPairs, replies } from '../workers/processors/redis-replies'

/**
 * One way of weighting the blend, by name; `sources` changes what `personalSources` answers
 * before the blend, for variants of the rule rather than of a weight.
 */
export type BlendVariant = {
  name: string
  options: PersonalOptions
  sources?: (sources: PersonalSources) => PersonalSources
}

/**
 * The default blend and the variants the eval reports, each changing one aspect of it:
 * `revisit` (what the shopper's own recent items score: 0 leaves them out, 100 puts all of them
 * before any other item, i.e. "recent items" then the rest of the blend), the rule an own item
 * is scored by (its newest interaction only, as before 2026-11-28, instead of the sum over its
 * interactions), and the weight of category and site-wide trending against neighbours.
 * @example blendVariants()[0]?.name // 'defaults (revisit 2)'
 */
export function blendVariants(): BlendVariant[] {
  const w = PERSONAL.weights
  const withWeights = (weights: Partial<PersonalOptions['weights']>): PersonalOptions => ({
    ...PERSONAL,
    weights: { ...w, ...weights },
  })
  return [
    { name: `defaults (revisit ${w.revisit})`, options: PERSONAL },
    { name: 'revisit 0 (own items left out)', options: withWeights({ revisit: 0 }) },
    { name: 'revisit 1', options: withWeights({ revisit: 1 }) },
    { name: 'revisit 5', options: withWeights({ revisit: 5 }) },
    { name: 'revisit 100 (own items all first)', options: withWeights({ revisit: 100 }) },
    {
      name: 'own item by its newest interaction only',
      options: PERSONAL,
      sources: (sources) => ({ ...sources, own: sources.items }),
    },
    { name: 'trending 0', options: withWeights({ trending: 0 }) },
    { name: 'trending 1, global 0.3', options: withWeights({ trending: 1, global: 0.3 }) },
  ]
}

type ShopperState = {
  history: Interaction[]
  bought: Set<string>
  interests: Record<string, number>
}

/**
 * Each variant's top-`limit` list per user, as the read API would answer it had the workers
 * just recomputed it.
 * @example const lists = await recomputeBlends(redis, keys, siteId, users, blendVariants(), 10)
 */
export async function recomputeBlends(
  redis: Redis,
  keys: Keys,
  siteId: string,
  users: readonly string[],
  variants: readonly BlendVariant[],
  limit: number,
): Promise<Map<string, Map<string, string[]>>> {
  const out = new Map(variants.map((v) => [v.name, new Map<string, string[]>()]))
  const lists = new Map<string, Ranked>()
  const weights = new Map<string, number>()
  /** Reads every list and item weight not read yet, in one round trip. */
  const load = async (items: Iterable<string>, categories: Iterable<string | undefined>) => {
    const read = redis.pipeline()
    const takes: ((results: unknown[]) => void)[] = []
    let queued = 0
    for (const item of new Set(items)) {
      const key = keys.recNeighbours(siteId, item)
      if (!lists.has(key) && !weights.has(item)) {
        const i = queued
        queued += 2
        read.zrevrange(key, 0, PERSONAL_LIMITS.neighboursRead - 1, 'WITHSCORES')
        read.hget(keys.recItem(siteId, item), ITEM_WEIGHT_FIELD)
        takes.push((results) => {
          lists.set(key, flatPairs(results[i] as string[]))
          weights.set(item, Number(results[i + 1] ?? 0))
        })
      }
    }
    for (const category of new Set(categories)) {
      const key = keys.recTrending(siteId, category)
      if (!lists.has(key)) {
        const i = queued
        queued += 1
        const count =
          category === undefined ? PERSONAL_LIMITS.globalRead : PERSONAL_LIMITS.trendingRead
        read.zrevrange(key, 0, count - 1, 'WITHSCORES')
        takes.push((results) => lists.set(key, flatPairs(results[i] as string[])))
      }
    }
    if (queued > 0) {
      const results = await replies(read)
      for (const take of takes) {
        take(results)
      }
    }
  }

  await load([], [undefined])
  for (const user of users) {
    const state = await readShopper(redis, keys, profileKeyOf(siteId, `u:${user}`))
    const plans = variants.map((v) => ({
      variant: v,
      sources: (v.sources ?? ((s: PersonalSources) => s))(
        personalSources(state.history, state.interests, v.options),
      ),
    }))
    await load(
      plans.flatMap((p) => p.sources.items.map(([item]) => item)),
      plans.flatMap((p) => p.sources.categories.map(([category]) => category)),
    )
    const global = lists.get(keys.recTrending(siteId)) ?? []
    for (const { variant, sources } of plans) {
      const recs = personalRecs(
        {
          ...sources,
          bought: state.bought,
          neighbours: new Map(
            sources.items.map(([item]) => [
              item,
              {
                n: weights.get(item) ?? 0,
                list: lists.get(keys.recNeighbours(siteId, item)) ?? [],
              },
            ]),
          ),
          trending: new Map(
            sources.categories.map(([c]) => [c, lists.get(keys.recTrending(siteId, c)) ?? []]),
          ),
          global,
        },
        variant.options,
      )
      out.get(variant.name)?.set(user, topUp(recs.slice(0, limit), global, state.bought, limit))
    }
  }
  return out
}

/** What `loadShoppers` reads of a shopper: recent items, purchases, decayed interests. */
async function readShopper(redis: Redis, keys: Keys, profile: string): Promise<ShopperState> {
  const [recent, bought, interests] = (await replies(
    redis
      .pipeline()
      .zrevrange(keys.profileRecent(profile), 0, REC_LIMITS.recentRead - 1)
      .zrevrange(keys.profileBought(profile), 0, REC_LIMITS.boughtRead - 1, 'WITHSCORES')
      .hgetall(keys.profileInterests(profile)),
  )) as [string[], string[], Record<string, string>]
  const history: Interaction[] = []
  for (const json of recent) {
    const parsed = recentEvent.safeParse(parseJson(json))
    const interaction = parsed.success ? fromRecent(parsed.data) : undefined
    if (interaction) {
      history.push(interaction)
    }
  }
  const boughtItems = new Set<string>()
  for (const [item, ts] of flatPairs(bought)) {
    history.push({ item, kind: 'order', ts })
    boughtItems.add(item)
  }
  const latest = Math.max(0, ...history.map((h) => h.ts))
  return {
    history,
    bought: boughtItems,
    interests: decayedFields(interests, latest, PROFILE_HALF_LIFE_MS),
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** The read API's top-up (recommendations.get.ts `topUp`): trending, never bought or listed. */
function topUp(
  recs: readonly (readonly [string, number])[],
  trending: Ranked,
  bought: ReadonlySet<string>,
  limit: number,
): string[] {
  const items = recs.map(([item]) => item)
  const listed = new Set(items)
  for (const [item] of trending.slice(0, 2 * limit)) {
    if (items.length >= limit) {
      break
    }
    if (!listed.has(item) && !bought.has(item)) {
      items.push(item)
      listed.add(item)
    }
  }
  return items
}
