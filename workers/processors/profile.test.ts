import { describe, expect, it } from 'vitest'
import type { StoredEvent } from '../../streams/events'
import { createKeys } from '../../streams/keys'
import { testRedis } from '../../test/redis'
import { DEFAULT_WEIGHTS, decayedValue } from '../domain/profile-delta'
import { applyProfiles, mergeOnLogin, PROFILE_LIMITS, type ProfileStore } from './profile'

const HOUR = 3_600_000
const T0 = Date.UTC(2026, 10, 1)

function viewed(id: string, ts: number, extra: Partial<StoredEvent> = {}): StoredEvent {
  return {
    id,
    type: 'ProductViewed',
    v: 1,
    anonymousId: 'anon-1',
    ts,
    receivedAt: ts,
    siteId: 'sit_t',
    verified: false,
    props: { productId: `p-${id}`, category: 'Shoes', price: 50 },
    ...extra,
  } as StoredEvent
}

async function store(): Promise<ProfileStore & { prefix: string }> {
  const { redis, prefix } = await testRedis()
  return {
    redis,
    prefix,
    keys: createKeys(prefix),
    weights: DEFAULT_WEIGHTS,
    retentionMs: 365 * 24 * HOUR,
    ...PROFILE_LIMITS,
  }
}

describe('profile processor', () => {
  it('applies an event once, however often it is delivered', async () => {
    const s = await store()
    const event = viewed('e1', T0)
    expect(await applyProfiles(s, [event, event], T0)).toBe(1)
    expect(await applyProfiles(s, [event], T0)).toBe(0)
    expect(await applyProfiles(s, [event, viewed('e2', T0)], T0)).toBe(1)
    const profile = await s.redis.hgetall(s.keys.profile('sit_t:a:anon-1'))
    expect(profile).toMatchObject({
      n: '2',
      'n:ProductViewed': '2',
      first: String(T0),
      last: String(T0),
    })
    expect(Number(profile.score)).toBe(2)
  })

  it('gives the same score and interests whatever order events arrive in', async () => {
    const events = [
      viewed('a', T0),
      viewed('b', T0 + 30 * HOUR, { type: 'AddedToCart' } as Partial<StoredEvent>),
      viewed('c', T0 + 200 * HOUR),
      viewed('d', T0 - 50 * HOUR),
    ]
    const forward = await store()
    const backward = await store()
    for (const e of events) {
      await applyProfiles(forward, [e], T0)
    }
    for (const e of [...events].reverse()) {
      await applyProfiles(backward, [e], T0)
    }
    const now = T0 + 300 * HOUR
    const h = DEFAULT_WEIGHTS.halfLifeMs
    const expected = [1, 5, 1, 1].reduce(
      (sum, w, i) => sum + decayedValue(w, events[i]?.ts ?? 0, now, h),
      0,
    )
    for (const s of [forward, backward]) {
      const p = await s.redis.hgetall(s.keys.profile('sit_t:a:anon-1'))
      expect(decayedValue(Number(p.score), Number(p['score@']), now, h)).toBeCloseTo(expected, 9)
      expect(p.first).toBe(String(T0 - 50 * HOUR))
      expect(p.last).toBe(String(T0 + 200 * HOUR))
      const i = await s.redis.hgetall(s.keys.profileInterests('sit_t:a:anon-1'))
      expect(decayedValue(Number(i.Shoes), Number(i['Shoes@']), now, h)).toBeCloseTo(expected, 9)
    }
  })

  it('keeps a capped list of recent events in time order and the items bought', async () => {
    const s = await store()
    const events = Array.from({ length: PROFILE_LIMITS.recentCap + 5 }, (_, i) =>
      viewed(`r${i}`, T0 + i * 1000),
    )
    await applyProfiles(s, events, T0)
    const order: StoredEvent = {
      id: 'o1',
      type: 'OrderCompleted',
      v: 1,
      anonymousId: 'anon-1',
      ts: T0 + 10 * HOUR,
      receivedAt: T0,
      siteId: 'sit_t',
      verified: false,
      props: { orderId: 'o1', products: [{ productId: 'x' }, { productId: 'y' }] },
    }
    await applyProfiles(s, [order], T0)
    const recent = await s.redis.zrange(s.keys.profileRecent('sit_t:a:anon-1'), 0, -1)
    expect(recent).toHaveLength(PROFILE_LIMITS.recentCap)
    expect(JSON.parse(recent.at(-1) ?? '{}').type).toBe('OrderCompleted')
    expect(await s.redis.zrange(s.keys.profileBought('sit_t:a:anon-1'), 0, -1)).toEqual(['x', 'y'])
    expect(await s.redis.hget(s.keys.profile('sit_t:a:anon-1'), 'purchases')).toBe('2')
  })

  it("gives the same profile however a shopper's events are split into jobs", async () => {
    const events = Array.from({ length: 12 }, (_, i) =>
      viewed(`s${i}`, T0 + ((i * 7) % 12) * HOUR, {
        props: { productId: `p${i}`, category: ['Shoes', 'Bags', 'Hats'][i % 3], price: 1 },
      } as Partial<StoredEvent>),
    )
    const whole = await store()
    const split = await store()
    expect(await applyProfiles(whole, events, T0)).toBe(12)
    for (const part of [events.slice(0, 5), events.slice(3, 9), events.slice(9)]) {
      await applyProfiles(split, part, T0)
    }
    const read = async (s: ProfileStore) => ({
      profile: await s.redis.hgetall(s.keys.profile('sit_t:a:anon-1')),
      recent: await s.redis.zrange(s.keys.profileRecent('sit_t:a:anon-1'), 0, -1),
      interests: await s.redis.hgetall(s.keys.profileInterests('sit_t:a:anon-1')),
    })
    const a = await read(whole)
    const b = await read(split)
    expect(b.profile).toMatchObject({ n: '12', first: a.profile.first, last: a.profile.last })
    expect(b.recent).toEqual(a.recent)
    const now = T0 + 20 * HOUR
    const h = DEFAULT_WEIGHTS.halfLifeMs
    const at = (p: Record<string, string>, f: string) =>
      decayedValue(Number(p[f]), Number(p[`${f}@`]), now, h)
    expect(at(b.profile, 'score')).toBeCloseTo(at(a.profile, 'score'), 9)
    for (const category of ['Shoes', 'Bags', 'Hats']) {
      expect(at(b.interests, category)).toBeCloseTo(at(a.interests, category), 9)
    }
  })

  it("applies a request of many large orders in one call (past Lua's unpack limit)", async () => {
    const s = await store()
    const orders: StoredEvent[] = Array.from({ length: 60 }, (_, o) => ({
      id: `big-${o}`,
      type: 'OrderCompleted',
      v: 1,
      anonymousId: 'anon-1',
      ts: T0 + o,
      receivedAt: T0,
      siteId: 'sit_t',
      verified: false,
      props: {
        orderId: `big-${o}`,
        products: Array.from({ length: 100 }, (_, l) => ({ productId: `i${o}-${l}` })),
      },
    }))
    expect(await applyProfiles(s, orders, T0)).toBe(60)
    expect(await s.redis.zcard(s.keys.profileBought('sit_t:a:anon-1'))).toBe(6000)
    expect(await s.redis.hget(s.keys.profile('sit_t:a:anon-1'), 'purchases')).toBe('6000')
  })

  it("keeps each site's most recently active shoppers, newest first, for the preview", async () => {
    const s = await store()
    const as = (anonymousId: string, id: string, receivedAt: number) =>
      viewed(id, receivedAt, { anonymousId, receivedAt } as Partial<StoredEvent>)
    await applyProfiles(s, [as('old', 'x1', T0), as('new', 'x2', T0 + 2 * HOUR)], T0)
    await applyProfiles(s, [as('mid', 'x3', T0 + HOUR)], T0)
    // A redelivered old job does not move a shopper back.
    await applyProfiles(s, [as('new', 'x2', T0 + 2 * HOUR), as('new', 'x0', T0 - HOUR)], T0)
    expect(await s.redis.zrevrange(s.keys.siteShoppers('sit_t'), 0, -1)).toEqual([
      'sit_t:a:new',
      'sit_t:a:mid',
      'sit_t:a:old',
    ])
  })

  it('lets a profile expire NUDGE_PROFILE_TTL after its latest event, all its keys together', async () => {
    const s = { ...(await store()), ttlMs: 60_000 }
    const order: StoredEvent = {
      ...viewed('t1', T0),
      type: 'OrderCompleted',
      props: { orderId: 'o', products: [{ productId: 'x', category: 'Shoes' }] },
    } as StoredEvent
    await applyProfiles(s, [viewed('t0', T0), order], T0)
    const who = 'sit_t:a:anon-1'
    const keys = [
      s.keys.profile(who),
      s.keys.profileApplied(who),
      s.keys.profileRecent(who),
      s.keys.profileBought(who),
      s.keys.profileInterests(who),
    ]
    for (const key of keys) {
      const ttl = await s.redis.pttl(key)
      expect(ttl, key).toBeGreaterThan(50_000)
      expect(ttl, key).toBeLessThanOrEqual(60_000)
    }
    // A later event renews them all, and the merge marker and audience anchor with them.
    await s.redis.pexpire(s.keys.profile(who), 1_000)
    await s.redis.set(s.keys.profileAnchor(who), 'anon-1')
    await s.redis.sadd(s.keys.profileMerged(who), 'sit_t:a:other')
    await applyProfiles({ ...s, ttlMs: 120_000 }, [viewed('t2', T0 + HOUR)], T0)
    for (const key of [s.keys.profile(who), s.keys.profileAnchor(who), s.keys.profileMerged(who)]) {
      expect(await s.redis.pttl(key), key).toBeGreaterThan(60_000)
    }
  })

  it('gives the keys a login merge writes the profile TTL, the merge marker too', async () => {
    const s = { ...(await store()), ttlMs: 60_000 }
    const order: StoredEvent = {
      ...viewed('m0', T0),
      type: 'OrderCompleted',
      props: { orderId: 'o', products: [{ productId: 'x', category: 'Shoes' }] },
    } as StoredEvent
    await applyProfiles(s, [order], T0)
    const login = {
      ...viewed('m1', T0 + HOUR),
      type: 'UserLoggedIn',
      userId: 'u-9',
      verified: true,
      props: {},
    } as StoredEvent
    // The login alone is merged (its own apply is skipped here): the user's bought and
    // interests keys are created by the merge, and must expire too.
    await mergeOnLogin(s, [login])
    const user = 'sit_t:u:u-9'
    for (const key of [
      s.keys.profileBought(user),
      s.keys.profileInterests(user),
      s.keys.profileMerged(user),
    ]) {
      const ttl = await s.redis.pttl(key)
      expect(ttl, key).toBeGreaterThan(0)
      expect(ttl, key).toBeLessThanOrEqual(60_000)
    }
  })

  it('keeps the strongest interests past the cap, weighing old ones at their decayed value', async () => {
    const s = { ...(await store()), interestsCap: 2 }
    const YEAR = 365 * 24 * HOUR
    const at = (id: string, category: string, ts: number, type = 'ProductViewed') =>
      viewed(id, ts, {
        type,
        props: { productId: id, category, price: 1 },
      } as Partial<StoredEvent>)
    // Two carts each, a year ago (stored 10 at that time), then three views today (3 now).
    await applyProfiles(
      s,
      ['a1', 'a2', 'b1', 'b2'].map((id) =>
        at(id, id.startsWith('a') ? 'Old A' : 'Old B', T0 - YEAR, 'AddedToCart'),
      ),
      T0,
    )
    await applyProfiles(s, [at('c1', 'New', T0), at('c2', 'New', T0), at('c3', 'New', T0)], T0)
    const interests = await s.redis.hgetall(s.keys.profileInterests('sit_t:a:anon-1'))
    expect(Object.keys(interests).filter((f) => !f.endsWith('@'))).toContain('New')
    expect(Object.keys(interests)).toHaveLength(4)
  })

  it('merges the anonymous profile into the user on a proven login, once', async () => {
    const s = await store()
    await applyProfiles(s, [viewed('v1', T0), viewed('v2', T0 + HOUR)], T0)
    const login: StoredEvent = {
      id: 'login-1',
      type: 'UserLoggedIn',
      v: 1,
      anonymousId: 'anon-1',
      userId: 'u-1',
      ts: T0 + 2 * HOUR,
      receivedAt: T0,
      siteId: 'sit_t',
      verified: true,
      props: {},
    }
    await applyProfiles(s, [login], T0)
    await mergeOnLogin(s, [login])
    await applyProfiles(s, [{ ...login, id: 'login-2' }], T0)
    await mergeOnLogin(s, [login, { ...login, id: 'login-2' }])
    const user = await s.redis.hgetall(s.keys.profile('sit_t:u:u-1'))
    expect(user).toMatchObject({
      n: '4',
      'n:ProductViewed': '2',
      'n:UserLoggedIn': '2',
      first: String(T0),
    })
    expect(await s.redis.zcard(s.keys.profileRecent('sit_t:u:u-1'))).toBe(4)
  })
})
