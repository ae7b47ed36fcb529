/**
 * @module A one-time backfill of the active-shoppers index (`keys.siteShoppers`): profiles
 * written before the workers kept the index are added to it, scored by their latest event,
 * then `keys.shoppersBackfilled` is set and later runs return at once. Until it is set, the
 * console's rule preview tops a short index up by scanning the keyspace; after, it reads the
 * index alone, so a small site's preview no longer walks every key of the install.
 *
 * Runs as a maintenance task (workers/maintenance.ts): SCAN, never a blocking command, and
 * harmless to run twice or concurrently (ZADD GT only moves a shopper forward). A run that
 * fails part-way starts over on its next turn.
 */
import type { Redis } from 'ioredis'
import type { Keys } from '../../streams/keys'
import { SHOPPERS_KEPT } from '../processors/profile'
import { replies } from '../processors/redis-replies'

/**
 * @example await backfillShoppers({ redis, keys }) // { added: 1200 } or { skipped: true }
 */
export async function backfillShoppers(deps: {
  redis: Redis
  keys: Keys
  /** Keys asked for per SCAN call (default 1,000). */
  count?: number
}): Promise<{ added: number } | { skipped: true }> {
  const { redis, keys } = deps
  if ((await redis.exists(keys.shoppersBackfilled())) === 1) {
    return { skipped: true }
  }
  // Main profile hashes are `…profile:{<site>:<kind>:<id>}`; the `}` at the end of the pattern
  // leaves out their companion keys (`…}:recent` and so on).
  const head = keys.profile('').slice(0, -1)
  const sites = new Set<string>()
  let added = 0
  let cursor = '0'
  do {
    const [next, found] = await redis.scan(
      cursor,
      'MATCH',
      `${head}*}`,
      'COUNT',
      deps.count ?? 1000,
    )
    cursor = next
    if (found.length === 0) {
      continue
    }
    const read = redis.pipeline()
    for (const key of found) {
      read.hget(key, 'last')
    }
    const lasts = await replies(read)
    const bySite = new Map<string, (string | number)[]>()
    found.forEach((key, i) => {
      const last = Number(lasts[i])
      const profile = key.slice(head.length, -1)
      const site = profile.slice(0, profile.indexOf(':'))
      // Expired between SCAN and HGET, or not a profile hash: nothing to index.
      if (!Number.isFinite(last) || last <= 0 || site === '') {
        return
      }
      const members = bySite.get(site) ?? []
      members.push(last, profile)
      bySite.set(site, members)
    })
    const write = redis.pipeline()
    for (const [site, members] of bySite) {
      sites.add(site)
      write.zadd(keys.siteShoppers(site), 'GT', ...members)
      added += members.length / 2
    }
    await replies(write)
  } while (cursor !== '0')
  const done = redis.pipeline()
  for (const site of sites) {
    done.zremrangebyrank(keys.siteShoppers(site), 0, -(SHOPPERS_KEPT + 1))
  }
  done.set(keys.shoppersBackfilled(), new Date().toISOString())
  await replies(done)
  return { added }
}
