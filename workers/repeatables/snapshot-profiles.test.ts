import { describe, expect, it } from 'vitest'
import { findProfileSnapshot } from '../../drizzle/queries/profile-snapshots'
import type { StoredEvent } from '../../streams/events'
import { createKeys } from '../../streams/keys'
import { testDb } from '../../test/db'
import { testRedis } from '../../test/redis'
import { DEFAULT_WEIGHTS } from '../domain/profile-delta'
import { applyProfiles, PROFILE_LIMITS } from '../processors/profile'
import { snapshotProfiles } from './snapshot-profiles'

describe('profile snapshots', () => {
  it('copies changed profiles to PostgreSQL in batches, each once per change', async () => {
    const { redis, prefix } = await testRedis()
    const { db } = await testDb()
    const keys = createKeys(prefix)
    const store = {
      redis,
      keys,
      weights: DEFAULT_WEIGHTS,
      retentionMs: 86_400_000,
      ...PROFILE_LIMITS,
    }
    const now = Date.now()
    const events: StoredEvent[] = Array.from({ length: 7 }, (_, i) => ({
      id: `e${i}`,
      type: 'ProductViewed',
      v: 1,
      anonymousId: `shopper-${i % 3}`,
      ts: now,
      receivedAt: now,
      siteId: 'sit_s',
      verified: false,
      props: { productId: 'p', category: 'Bags' },
    }))
    await applyProfiles(store, events, now)
    expect(await snapshotProfiles({ redis, keys, db, batchSize: 2 })).toEqual({ snapshots: 3 })
    expect(await snapshotProfiles({ redis, keys, db })).toEqual({ snapshots: 0 })
    const row = await findProfileSnapshot(db, 'sit_s:a:shopper-0')
    expect(row?.siteId).toBe('sit_s')
    expect(row?.data.profile.n).toBe('3')
    expect(Object.keys(row?.data.interests ?? {})).toContain('Bags')
  })
})
