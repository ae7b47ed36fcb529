import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createSite } from '../../drizzle/queries/sites'
import { signIdentityToken } from '../../streams/live-token'
import { basic, productViewed, type TestApi, testApi } from '../../test/harness'
import { readLog } from '../../test/log'

const hmac = (secret: string, userId: string) =>
  createHmac('sha256', secret).update(userId).digest('hex')

function identify(t: TestApi, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return t.app.request('/v1/identity', {
    method: 'POST',
    headers: { authorization: basic(t.site.writeKey), ...headers },
    body: JSON.stringify(body),
  })
}

describe('POST /v1/identity (security)', () => {
  it('never issues a user-bound token without a matching userHash', async () => {
    const t = await testApi()
    const other = await createSite(t.db, { name: 'Other', allowedOrigins: [], box: t.box })
    const cases: [string, Record<string, unknown>, number][] = [
      ['missing userHash', { userId: 'u42' }, 401],
      ['missing userHash, with anonymousId', { anonymousId: 'a', userId: 'u42' }, 401],
      ['hash of another user', { userId: 'u42', userHash: hmac(t.site.secret, 'u43') }, 403],
      [
        'hash with another site’s secret',
        { userId: 'u42', userHash: hmac(other.secret, 'u42') },
        403,
      ],
      [
        'hash keyed with the write key',
        { userId: 'u42', userHash: hmac(t.site.writeKey, 'u42') },
        403,
      ],
      ['all zeros', { userId: 'u42', userHash: '0'.repeat(64) }, 403],
    ]
    for (const [name, body, status] of cases) {
      const res = await identify(t, body)
      const answer = await res.json()
      expect(res.status, `${name}: ${JSON.stringify(answer)}`).toBe(status)
      expect(answer.token, name).toBeUndefined()
      expect(answer.error.message, name).toMatch(/userHash/)
    }
  })

  it('refuses browser origins the site does not allow', async () => {
    const t = await testApi()
    const res = await identify(t, { anonymousId: 'a' }, { origin: 'https://evil.example' })
    expect(res.status).toBe(403)
    const allowed = await identify(t, { anonymousId: 'a' }, { origin: 'https://shop.example' })
    expect(allowed.status).toBe(200)
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example')
  })

  it('events with a forged, expired, foreign or anonymous token prove no userId', async () => {
    const t = await testApi()
    const other = await createSite(t.db, { name: 'Other', allowedOrigins: [], box: t.box })
    const forged = await signIdentityToken(
      new Uint8Array(32).fill(9),
      { siteId: t.site.site.id, userId: 'u42' },
      60_000,
    )
    const expired = await signIdentityToken(
      t.serverKeys.token,
      { siteId: t.site.site.id, userId: 'u42' },
      1_000,
      Date.now() - 3_600_000,
    )
    const foreign = await signIdentityToken(
      t.serverKeys.token,
      { siteId: other.site.id, userId: 'u42' },
      60_000,
    )
    const anonymous = (await (await identify(t, { anonymousId: 'anon-1' })).json()).token
    const cases: [string, string, string | null][] = [
      ['forged', forged.token, 'invalid'],
      ['expired', expired.token, 'expired'],
      ['other site', foreign.token, 'other_site'],
      ['anonymous token', anonymous, null],
      ['garbage', 'a.b.c', 'invalid'],
    ]
    for (const [name, token, error] of cases) {
      const event = productViewed({ anonymousId: 'anon-1', userId: 'u42' })
      const res = await t.app.request('/v1/events', {
        method: 'POST',
        headers: { authorization: basic(t.site.writeKey), 'x-nudge-token': token },
        body: JSON.stringify({ events: [event] }),
      })
      expect(res.status, name).toBe(200)
      expect(res.headers.get('x-nudge-token-error'), name).toBe(error)
      const stored = (await readLog(t.redis, t.prefix, 4)).find((e) => e.id === event.id)
      expect(stored?.verified, name).toBe(false)
    }
  })

  it('a user token does not prove a different userId named in the event', async () => {
    const t = await testApi()
    const { token } = await (
      await identify(t, { userId: 'u1', userHash: hmac(t.site.secret, 'u1') })
    ).json()
    const event = productViewed({ anonymousId: 'anon-1', userId: 'u2' })
    await t.app.request('/v1/events', {
      method: 'POST',
      headers: { authorization: basic(t.site.writeKey), 'x-nudge-token': token },
      body: JSON.stringify({ events: [event] }),
    })
    const stored = (await readLog(t.redis, t.prefix, 4)).find((e) => e.id === event.id)
    expect(stored).toMatchObject({ userId: 'u2', verified: false })
  })
})
