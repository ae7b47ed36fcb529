/**
 * @module Periodic trending decay and pruning: every trending set whose epoch is older than
 * `minAgeMs` is decayed to now and loses the items that faded (trending-rebase-2.lua), so the
 * sets of quiet sites and categories shrink too, not only those still written to.
 */
import type { Redis } from 'ioredis'
import type { Keys } from '../../streams/keys'
import { TRENDING_HALF_LIFE_MS } from '../../streams/recommendations'
import { withScripts } from '../scripts/load'

/**
 * @example await decayTrending({ redis, keys, now: Date.now() }) // { sets: 12, dropped: 40 }
 */
export async function decayTrending(deps: {
  redis: Redis
  keys: Keys
  now: number
  minAgeMs?: number
}): Promise<{ sets: number; dropped: number }> {
  const { redis, keys, now } = deps
  const minAgeMs = deps.minAgeMs ?? TRENDING_HALF_LIFE_MS
  const client = withScripts(redis)
  // Every site's epochs hash: `<prefix>rec:{<site>}:trending-epochs`.
  const pattern = keys.recTrendingEpochs('*')
  let cursor = '0'
  let sets = 0
  let dropped = 0
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
    cursor = next
    for (const epochsKey of found) {
      const siteId = epochsKey.slice(epochsKey.indexOf('{') + 1, epochsKey.lastIndexOf('}'))
      for (const field of await redis.hkeys(epochsKey)) {
        const set =
          field === 'all'
            ? keys.recTrending(siteId)
            : keys.recTrending(siteId, field.slice('cat:'.length))
        const result = await client.nudgeTrendingRebase(
          set,
          epochsKey,
          field,
          TRENDING_HALF_LIFE_MS,
          now,
          minAgeMs,
        )
        if (result >= 0) {
          sets += 1
          dropped += result
        }
      }
    }
  } while (cursor !== '0')
  return { sets, dropped }
}
