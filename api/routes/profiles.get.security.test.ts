import { describe, expect, it } from 'vitest'
import { createSite } from '../../drizzle/queries/sites'
import { basic, testApi } from '../../test/harness'
import { itemEvent, processEvents } from '../../test/shoppers'
import type { ErrorBody } from '../errors'

describe('GET /v1/profiles/:profileKey (security)', () => {
  it('refuses the public write key with 403: server-to-server only', async () => {
    const t = await testApi()
    await processEvents(t, [itemEvent(t, { anonymousId: 'a1' }, 'ProductViewed', 'p1')])
    const res = await t.app.request('/v1/profiles/a:a1', {
      headers: { authorization: basic(t.site.writeKey), origin: 'https://shop.example' },
    })
    expect(res.status).toBe(403)
    expect(((await res.json()) as ErrorBody).error.message).toContain('server-to-server')
  })

  it('answers 401 without credentials, for an unknown secret, and for a secret in the query', async () => {
    const t = await testApi()
    const none = await t.app.request('/v1/profiles/a:a1')
    expect(none.status).toBe(401)
    expect(((await none.json()) as ErrorBody).error.message).toContain('site secret')
    const unknown = await t.app.request('/v1/profiles/a:a1', {
      headers: { authorization: basic('sk_not_a_secret') },
    })
    expect(unknown.status).toBe(401)
    const query = await t.app.request(`/v1/profiles/a:a1?writeKey=${t.site.secret}`)
    expect(query.status).toBe(401)
  })

  it('never shows one site the shoppers of another, whatever key the caller names', async () => {
    const t = await testApi()
    await processEvents(t, [itemEvent(t, { userId: 'u1' }, 'ProductViewed', 'p1')])
    const other = await createSite(t.db, { name: 'Other store', allowedOrigins: [] })
    const res = await t.app.request('/v1/profiles/u:u1', {
      headers: { authorization: basic(other.secret) },
    })
    expect(res.status).toBe(404)
    const own = await t.app.request('/v1/profiles/u:u1', {
      headers: { authorization: basic(t.site.secret) },
    })
    expect(own.status).toBe(200)
  })

  it('keeps an unproven claimed userId apart from the proven user', async () => {
    const t = await testApi()
    // A write-key sender claiming userId u1 writes to c:u1, never to u:u1.
    const claimed = { ...itemEvent(t, { userId: 'u1' }, 'ProductViewed', 'p1'), verified: false }
    await processEvents(t, [claimed])
    const res = await t.app.request('/v1/profiles/u:u1', {
      headers: { authorization: basic(t.site.secret) },
    })
    expect(res.status).toBe(404)
  })
})
