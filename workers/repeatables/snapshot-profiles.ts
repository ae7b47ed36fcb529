/**
 * @module Periodic profile snapshots to PostgreSQL: takes up to `maxPerRun` profiles marked
 * changed (SPOP, so concurrent runs never take the same one), reads each, and upserts them in
 * batches. A profile that changes again is marked again and snapshotted on a later run; one
 * whose write fails is marked again so it is not lost.
 */
import type { Redis } from 'ioredis'
import type { Db } from '../../drizzle/client'
import {
  type ProfileSnapshot,
  upsertProfileSnapshots,
} from '../../drizzle/queries/profile-snapshots'
import type { Keys } from '../../streams/keys'

/**
 * @example await snapshotProfiles({ redis, keys, db }) // { snapshots: 120 }
 */
export async function snapshotProfiles(deps: {
  redis: Redis
  keys: Keys
  db: Db
  batchSize?: number
  maxPerRun?: number
}): Promise<{ snapshots: number }> {
  const { redis, keys, db } = deps
  const batchSize = deps.batchSize ?? 500
  const maxPerRun = deps.maxPerRun ?? 20_000
  let snapshots = 0
  while (snapshots < maxPerRun) {
    const profiles = (await redis.spop(keys.profilesDirty(), batchSize)) as string[]
    if (profiles.length === 0) {
      break
    }
    const pipeline = redis.pipeline()
    for (const profile of profiles) {
      pipeline.hgetall(keys.profile(profile))
      pipeline.hgetall(keys.profileInterests(profile))
    }
    const replies = (await pipeline.exec()) ?? []
    const takenAt = new Date()
    const rows: ProfileSnapshot[] = profiles.map((profileKey, i) => ({
      profileKey,
      siteId: profileKey.slice(0, profileKey.indexOf(':')),
      data: {
        profile: (replies[2 * i]?.[1] ?? {}) as Record<string, string>,
        interests: (replies[2 * i + 1]?.[1] ?? {}) as Record<string, string>,
      },
      takenAt,
    }))
    try {
      await upsertProfileSnapshots(db, rows)
    } catch (err) {
      await redis.sadd(keys.profilesDirty(), ...profiles)
      throw err
    }
    snapshots += rows.length
  }
  return { snapshots }
}
