import { describe, expect, it } from 'vitest'
import { PROFILE_HALF_LIFE_MS } from '../../streams/profile'
import { basic, testApi } from '../../test/harness'
import { itemEvent, orderEvent, processEvents } from '../../test/shoppers'
import type { ProfileGetResponse } from './profiles.get'

describe('GET /v1/profiles/:profileKey', () => {
  it('answers the profile of a signed-in user: counts, times, score, interests, history', async () => {
    const t = await testApi()
    const who = { userId: 'u-42', anonymousId: 'anon-9' }
    const ts = Date.now() - 60_000
    await processEvents(t, [
      itemEvent(t, who, 'ProductViewed', 'p1', { ts, category: 'Shoes' }),
      itemEvent(t, who, 'AddedToCart', 'p2', { ts: ts + 1000, category: 'Shoes' }),
      orderEvent(t, who, ['p2'], ts + 2000),
    ])
    const res = await t.app.request('/v1/profiles/u:u-42', {
      headers: { authorization: basic(t.site.secret) },
    })
    expect(res.status).toBe(200)
    const body = (await res.json()) as ProfileGetResponse
    expect(body).toMatchObject({
      profileKey: 'u:u-42',
      events: 3,
      eventsByType: { ProductViewed: 1, AddedToCart: 1, OrderCompleted: 1 },
      firstSeen: ts,
      lastSeen: ts + 2000,
      purchases: 1,
      bought: [{ productId: 'p2', ts: ts + 2000 }],
    })
    // 1 (view) + 5 (cart) + 20 (order), a minute old: decay is far below the precision here.
    expect(body.score).toBeCloseTo(26, 2)
    expect(body.interests).toEqual([{ category: 'Shoes', value: expect.closeTo(6, 2) }])
    expect(body.recent.map((e) => e.type)).toEqual([
      'OrderCompleted',
      'AddedToCart',
      'ProductViewed',
    ])
    expect(body.recent[2]).toMatchObject({ item: 'p1', category: 'Shoes', ts })
  })

  it('decays score and interests to the time of the request with the workers’ half-life', async () => {
    const t = await testApi()
    const ts = Date.now() - PROFILE_HALF_LIFE_MS
    await processEvents(t, [
      itemEvent(t, { anonymousId: 'anon-1' }, 'ProductViewed', 'p1', { ts, category: 'Bags' }),
    ])
    const res = await t.app.request('/v1/profiles/a:anon-1', {
      headers: { authorization: basic(t.site.secret) },
    })
    const body = (await res.json()) as ProfileGetResponse
    expect(body.score).toBeCloseTo(0.5, 3)
    expect(body.interests[0]?.value).toBeCloseTo(0.5, 3)
    expect(body.at).toBeGreaterThanOrEqual(ts + PROFILE_HALF_LIFE_MS)
  })
})
