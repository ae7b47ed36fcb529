import { describe, expect, it } from 'vitest'
import type { StoredEvent } from '../../streams/events'
import { createKeys } from '../../streams/keys'
import { TRENDING_HALF_LIFE_MS, trendingEpochField } from '../../streams/recommendations'
import { testRedis } from '../../test/redis'
import { DEFAULT_WEIGHTS } from '../domain/profile-delta'
import { TRENDING } from '../domain/trending'
import { createEventsProcessor } from './events'
import { PROFILE_LIMITS, type ProfileStore } from './profile'
import { createRecommendationsStep, REC_LIMITS } from './recommendations'
import { PERSONAL_LIMITS } from './recommendations-personal'

const MIN = 60_000
const T0 = Date.UTC(2026, 10, 1)
const SITE = 'sit_r'

let seq = 0
function event(
  shopper: string,
  type: 'ProductViewed' | 'AddedToCart' | 'OrderCompleted',
  item: string | string[],
  ts: number,
  category?: string,
): StoredEvent {
  seq += 1
  const props =
    type === 'OrderCompleted'
      ? { orderId: `o${seq}`, products: [item].flat().map((productId) => ({ productId })) }
      : { productId: String(item), ...(category === undefined ? {} : { category }) }
  return {
    id: `e${seq}`,
    type,
    v: 1,
    anonymousId: shopper,
    ts,
    receivedAt: ts,
    siteId: SITE,
    verified: false,
    props,
  } as StoredEvent
}

async function setup() {
  const { redis, prefix } = await testRedis()
  const keys = createKeys(prefix)
  const profiles: ProfileStore = {
    redis,
    keys,
    weights: DEFAULT_WEIGHTS,
    retentionMs: 365 * 24 * 60 * MIN,
    ...PROFILE_LIMITS,
  }
  // Round trips of a job, the recommendations step's and the profiles' together: pipelines
  // executed (neither sends single commands).
  let roundTrips = 0
  const pipeline = redis.pipeline.bind(redis)
  const processEvents = createEventsProcessor(profiles, [
    createRecommendationsStep({ redis, keys }),
  ])
  const process = async (job: unknown) => {
    redis.pipeline = ((...args: Parameters<typeof pipeline>) => {
      const created = pipeline(...args)
      const exec = created.exec.bind(created)
      created.exec = (...execArgs: Parameters<typeof exec>) => {
        roundTrips += 1
        return exec(...execArgs)
      }
      return created
    }) as typeof redis.pipeline
    try {
      return await processEvents(job)
    } finally {
      redis.pipeline = pipeline
    }
  }
  const run = (events: StoredEvent[]) =>
    process({ partition: 0, entryId: `${seq}-0`, events: events.map((e) => ({ ...e })) })
  const neighbours = (item: string) =>
    redis.zrevrange(keys.recNeighbours(SITE, item), 0, -1, 'WITHSCORES')
  return { redis, keys, run, neighbours, roundTrips: () => roundTrips }
}

describe('recommendations step', () => {
  it('strengthens co-viewed items both ways, in one job and across jobs', async () => {
    const t = await setup()
    await t.run([
      event('s1', 'ProductViewed', 'a', T0),
      event('s1', 'ProductViewed', 'b', T0 + MIN),
    ])
    await t.run([event('s1', 'ProductViewed', 'c', T0 + 2 * MIN)])
    const [b, scoreB] = await t.neighbours('a')
    expect(b).toBe('b')
    // 1 pair × 2^(−1 min / 30 min), divided by √n_b (one view).
    expect(Number(scoreB)).toBeCloseTo(2 ** (-1 / 30), 9)
    expect((await t.neighbours('c')).filter((_, i) => i % 2 === 0).sort()).toEqual(['a', 'b'])
    expect(await t.redis.hget(t.keys.recItem(SITE, 'a'), 'n')).toBe('1')
    const ttl = await t.redis.pttl(t.keys.recNeighbours(SITE, 'a'))
    expect(ttl).toBeGreaterThan(REC_LIMITS.itemTtlMs - 60_000)
  })

  it('ranks a niche co-viewed item above one everybody views', async () => {
    const t = await setup()
    const jobs: StoredEvent[][] = []
    for (let i = 0; i < 30; i++) {
      const ts = T0 + i * 60 * MIN
      jobs.push([
        event(`p${i}`, 'ProductViewed', 'popular', ts),
        event(`p${i}`, 'ProductViewed', `other${i}`, ts + MIN),
      ])
    }
    // `a` co-occurs with `popular` twice as often as with `niche`, but `popular` goes with
    // everything: by raw count it would win, by similarity it must not.
    for (let i = 0; i < 6; i++) {
      const ts = T0 + i * 60 * MIN
      jobs.push([
        event(`n${i}`, 'ProductViewed', 'a', ts),
        event(`n${i}`, 'ProductViewed', 'popular', ts + MIN),
        ...(i < 3 ? [event(`n${i}`, 'ProductViewed', 'niche', ts + MIN)] : []),
      ])
    }
    for (const job of jobs) {
      await t.run(job)
    }
    const ranked = (await t.neighbours('a')).filter((_, i) => i % 2 === 0)
    expect(ranked).toEqual(['niche', 'popular'])
  })

  it('keeps neighbour sets bounded however many items co-occur', async () => {
    const t = await setup()
    const limit = REC_LIMITS.neighbours + REC_LIMITS.neighboursSlack
    // 25 shoppers a job, each viewing the hub and an item of their own.
    for (let job = 0; job < (2 * limit) / 25; job++) {
      const ts = T0 + job * MIN
      await t.run(
        Array.from({ length: 25 }, (_, k) => [
          event(`s${job}-${k}`, 'ProductViewed', 'hub', ts),
          event(`s${job}-${k}`, 'ProductViewed', `x${job}-${k}`, ts + 1000),
        ]).flat(),
      )
    }
    const size = await t.redis.zcard(t.keys.recNeighbours(SITE, 'hub'))
    expect(size).toBeGreaterThanOrEqual(REC_LIMITS.neighbours)
    expect(size).toBeLessThanOrEqual(limit)
  })

  it('keeps decayed trending per site and category, rebasing the epoch before it overflows', async () => {
    const t = await setup()
    await t.run([event('s1', 'ProductViewed', 'old', T0, 'Shoes')])
    await t.run([event('s2', 'AddedToCart', 'p1', T0 + MIN, 'Shoes')])
    const epochs = t.keys.recTrendingEpochs(SITE)
    expect(await t.redis.hget(epochs, trendingEpochField('Shoes'))).toBe(String(T0))
    expect(await t.redis.zrevrange(t.keys.recTrending(SITE, 'Shoes'), 0, -1)).toEqual(['p1', 'old'])
    expect(await t.redis.hget(t.keys.recCategories(SITE), 'Shoes')).toBe('2')

    // Long after the epoch: the set moves to a new one, and a view from then is gone.
    const later = T0 + TRENDING.rebaseAfterMs + TRENDING_HALF_LIFE_MS * 10
    await t.run([event('s3', 'ProductViewed', 'new', later, 'Shoes')])
    expect(await t.redis.hget(epochs, trendingEpochField())).toBe(String(later))
    const all = await t.redis.zrevrange(t.keys.recTrending(SITE), 0, -1, 'WITHSCORES')
    expect(all).toEqual(['new', '1'])
  })

  it('keeps each shopper’s personal list: what they just viewed, its neighbours, never what they bought', async () => {
    const t = await setup()
    await t.run([
      event('s1', 'ProductViewed', 'a', T0),
      event('s1', 'ProductViewed', 'b', T0 + MIN),
    ])
    await t.run([event('s2', 'ProductViewed', 'a', T0 + 5 * MIN)])
    const recs = t.keys.profileRecs(`${SITE}:a:s2`)
    expect((await t.redis.zrevrange(recs, 0, -1)).slice(0, 2)).toEqual(['a', 'b'])

    await t.run([event('s2', 'OrderCompleted', ['b'], T0 + 6 * MIN)])
    expect((await t.redis.zrevrange(recs, 0, -1))[0]).toBe('a')
    expect(await t.redis.zrevrange(recs, 0, -1)).not.toContain('b')
    expect(await t.redis.pttl(recs)).toBeGreaterThan(0)
  })

  it.each([
    ['log in', 'UserLoggedIn', {}],
    ['view a page', 'PageViewed', { path: '/' }],
  ])(
    "refreshes a returning shopper's stale list when they %s, a fresh one not",
    async (_, type, props) => {
      const t = await setup()
      const visit = (shopper: string, ts: number) => {
        const e = event(shopper, 'ProductViewed', 'x', ts)
        return { ...e, type, props } as StoredEvent
      }
      await t.run([
        event('s1', 'ProductViewed', 'a', T0),
        event('s1', 'ProductViewed', 'b', T0 + MIN),
      ])
      // Later, another shopper views b then c: c becomes a neighbour of b.
      await t.run([
        event('s2', 'ProductViewed', 'b', T0 + 9 * MIN),
        event('s2', 'ProductViewed', 'c', T0 + 10 * MIN),
      ])
      const recs = t.keys.profileRecs(`${SITE}:a:s1`)
      expect(await t.redis.zrange(recs, 0, -1)).not.toContain('c')
      // s1 comes back at once: the list is fresh and stays as it was.
      await t.run([visit('s1', T0 + 11 * MIN)])
      expect(await t.redis.zrange(recs, 0, -1)).not.toContain('c')
      // The same list, made long enough ago: the next login recomputes it.
      await t.redis.pexpire(
        recs,
        PERSONAL_LIMITS.recsTtlMs - PERSONAL_LIMITS.refreshAfterMs - 1_000,
      )
      await t.run([visit('s1', T0 + 30 * MIN)])
      expect(await t.redis.zrange(recs, 0, -1)).toContain('c')
    },
  )

  it('adds a job touching 600 categories (two trending script calls)', async () => {
    const t = await setup()
    await t.run(
      Array.from({ length: 600 }, (_, i) =>
        event(`s${i % 7}`, 'ProductViewed', `p${i}`, T0 + i, `c${i}`),
      ),
    )
    expect(await t.redis.hlen(t.keys.recCategories(SITE))).toBe(600)
    expect(await t.redis.zcard(t.keys.recTrending(SITE, 'c599'))).toBe(1)
    expect(await t.redis.zcard(t.keys.recTrending(SITE))).toBe(600)
  })

  it('costs at most four round trips per job whatever its size, profiles included, and two when redelivered', async () => {
    const t = await setup()
    const job = (from: number) =>
      Array.from({ length: 60 }, (_, i) =>
        event(
          `s${i % 6}`,
          i % 5 === 0 ? 'AddedToCart' : 'ProductViewed',
          `p${i % 17}`,
          T0 + (from + i) * MIN,
          `c${i % 3}`,
        ),
      )
    const first = job(0)
    await t.run(first)
    expect(t.roundTrips()).toBe(4)
    const before = await t.redis.hget(t.keys.recItem(SITE, 'p1'), 'n')
    // Redelivered: the first read finds every event applied; the profiles' call changes nothing.
    await t.run(first)
    expect(t.roundTrips()).toBe(6)
    expect(await t.redis.hget(t.keys.recItem(SITE, 'p1'), 'n')).toBe(before)
    // Same items again: their weights are cached, so the weight read is skipped.
    await t.run(job(60))
    expect(t.roundTrips()).toBe(9)
  })
})
