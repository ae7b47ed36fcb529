/** Events sent through the api change the shopper's profile within milliseconds. */
import { describe, expect, it } from 'vitest'
import { createKeys } from '../../streams/keys'
import { basic, productViewed, testApi, testWorkers } from '../harness'
import { until } from '../until'

describe('ingest → pump → workers → profile', () => {
  it('updates the profile of the shopper who sent the events, once each', async () => {
    const t = await testApi()
    await testWorkers(t)
    const keys = createKeys(t.prefix)
    const events = [
      productViewed({ anonymousId: 'shopper-1' }),
      productViewed({ anonymousId: 'shopper-1', type: 'AddedToCart' }),
    ]
    const started = Date.now()
    for (let i = 0; i < 2; i++) {
      const res = await t.app.request('/v1/events', {
        method: 'POST',
        headers: { authorization: basic(t.site.writeKey) },
        body: JSON.stringify({ events }),
      })
      expect(res.status).toBe(200)
    }
    const profileKey = `${t.site.site.id}:a:shopper-1`
    const profile = await until(
      () => t.redis.hgetall(keys.profile(profileKey)),
      (p) => p.n === '2',
    )
    const elapsed = Date.now() - started
    expect(profile).toMatchObject({ n: '2', 'n:ProductViewed': '1', 'n:AddedToCart': '1' })
    expect(Number(profile.score)).toBeCloseTo(6, 3)
    // A generous bound on a shared machine; the pipeline benchmark measures the real figure.
    expect(elapsed).toBeLessThan(3_000)
  })
})
