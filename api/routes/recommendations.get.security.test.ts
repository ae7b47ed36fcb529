import { describe, expect, it } from 'vitest'
import { createSite } from '../../drizzle/queries/sites'
import { basic, testApi } from '../../test/harness'
import { itemEvent, processEvents } from '../../test/shoppers'
import type { ErrorBody } from '../errors'
import type { RecommendationsResponse } from './recommendations.get'

describe('GET /v1/recommendations (security)', () => {
  it('refuses the public write key with 403 and answers 401 without a known secret', async () => {
    const t = await testApi()
    const write = await t.app.request('/v1/recommendations?kind=trending', {
      headers: { authorization: basic(t.site.writeKey) },
    })
    expect(write.status).toBe(403)
    expect(((await write.json()) as ErrorBody).error.message).toContain('server-to-server')
    expect((await t.app.request('/v1/recommendations?kind=trending')).status).toBe(401)
    const unknown = await t.app.request('/v1/recommendations?kind=trending', {
      headers: { authorization: basic('sk_nope') },
    })
    expect(unknown.status).toBe(401)
  })

  it('never answers one site with another site’s items or shoppers', async () => {
    const t = await testApi()
    await processEvents(t, [
      itemEvent(t, { anonymousId: 's1' }, 'ProductViewed', 'a'),
      itemEvent(t, { anonymousId: 's1' }, 'ProductViewed', 'b'),
    ])
    const other = await createSite(t.db, { name: 'Other store', allowedOrigins: [] })
    const as = (secret: string, query: string) =>
      t.app.request(`/v1/recommendations?${query}`, { headers: { authorization: basic(secret) } })
    for (const query of ['kind=trending', 'kind=similar&item=a']) {
      const mine = (await (await as(t.site.secret, query)).json()) as RecommendationsResponse
      expect(mine.items.length, query).toBeGreaterThan(0)
      const theirs = (await (await as(other.secret, query)).json()) as RecommendationsResponse
      expect(theirs.items, query).toEqual([])
    }
    expect((await as(other.secret, 'kind=personal&profile=a:s1')).status).toBe(404)
  })
})
