import { describe, expect, it } from 'vitest'
import { basic, testApi } from '../../test/harness'
import type { ErrorBody } from '../errors'

describe('GET /v1/profiles/:profileKey (errors)', () => {
  it('answers 404 with a clear message for a shopper the site has never seen', async () => {
    const t = await testApi()
    const res = await t.app.request('/v1/profiles/u:nobody', {
      headers: { authorization: basic(t.site.secret) },
    })
    expect(res.status).toBe(404)
    const body = (await res.json()) as ErrorBody
    expect(body.error.code).toBe('NOT_FOUND')
    expect(body.error.message).toContain('No profile u:nobody on this site')
  })

  it('answers 400 naming profileKey and the forms it accepts', async () => {
    const t = await testApi()
    for (const bad of ['42', 'x:42', 'u:', `a:${'x'.repeat(129)}`, 'u:has%20space']) {
      const res = await t.app.request(`/v1/profiles/${bad}`, {
        headers: { authorization: basic(t.site.secret) },
      })
      expect(res.status, bad).toBe(400)
      const body = (await res.json()) as ErrorBody
      expect(body.error.issues?.[0]?.field).toBe('profileKey')
      expect(body.error.issues?.[0]?.reason).toContain('u:<userId> or a:<anonymousId>')
    }
  })
})
