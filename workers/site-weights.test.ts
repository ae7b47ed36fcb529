import { describe, expect, it } from 'vitest'
import { runSitesCommand } from '../bin/sites'
import { createSite, findEventWeights } from '../drizzle/queries/sites'
import { loadConfig } from '../runtime/config'
import type { StoredEvent } from '../streams/events'
import { createKeys } from '../streams/keys'
import { testDb } from '../test/db'
import { testRedis } from '../test/redis'
import { createEventsPipeline } from './main'
import { createSiteWeights } from './site-weights'

describe('per-site engagement weights', () => {
  it('applies a site’s overrides from the database, and defaults elsewhere', async () => {
    const { redis, prefix } = await testRedis()
    const { db } = await testDb()
    const { site } = await createSite(db, { name: 'Weighted', allowedOrigins: [] })
    const lines: string[] = []
    expect(
      await runSitesCommand(['set-weights', site.id, 'OrderCompleted=30,ProductViewed=2'], {
        db,
        out: (l) => lines.push(l),
      }),
    ).toBe(0)
    expect(await findEventWeights(db, site.id)).toEqual({
      byType: { OrderCompleted: 30, ProductViewed: 2 },
    })
    expect(
      await runSitesCommand(['set-weights', site.id, 'ProductLiked=3'], {
        db,
        out: (l) => lines.push(l),
      }),
    ).toBe(2)
    expect(lines.at(-1)).toContain('unknown event type "ProductLiked"')

    const keys = createKeys(prefix)
    const processEvents = createEventsPipeline({
      config: loadConfig({ NUDGE_KEY_PREFIX: prefix }),
      redis,
      keys,
      eventWeights: (id) => findEventWeights(db, id),
    })
    const now = Date.now()
    const viewed = (siteId: string, id: string): StoredEvent => ({
      id,
      type: 'ProductViewed',
      v: 1,
      anonymousId: 'a',
      ts: now,
      receivedAt: now,
      siteId,
      verified: false,
      props: { productId: 'p' },
    })
    await processEvents({
      partition: 0,
      entryId: '1-0',
      events: [viewed(site.id, 'e1'), viewed('sit_other', 'e2')],
    })
    expect(Number(await redis.hget(keys.profile(`${site.id}:a:a`), 'score'))).toBe(2)
    expect(Number(await redis.hget(keys.profile('sit_other:a:a'), 'score'))).toBe(1)
  })

  it('keeps the last known weights when the database is away, and never guesses without them', async () => {
    let fail = false
    const weightsFor = createSiteWeights(
      async () => {
        if (fail) {
          throw new Error('database down')
        }
        return { byType: { AddedToCart: 9 } }
      },
      { ttlMs: 0 },
    )
    expect((await weightsFor('s1')).byType.AddedToCart).toBe(9)
    fail = true
    expect((await weightsFor('s1')).byType.AddedToCart).toBe(9)
    await expect(weightsFor('s2')).rejects.toThrow('database down')
  })
})
