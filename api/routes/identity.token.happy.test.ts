import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { rotateSecret } from '../../drizzle/queries/sites'
import { verifyIdentityToken } from '../../streams/live-token'
import { basic, productViewed, type TestApi, testApi } from '../../test/harness'
import { readLog } from '../../test/log'

const hmac = (secret: string, userId: string) =>
  createHmac('sha256', secret).update(userId).digest('hex')

function identify(t: TestApi, body: Record<string, unknown>, key = t.site.writeKey) {
  return t.app.request('/v1/identity', {
    method: 'POST',
    headers: { authorization: basic(key), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

describe('POST /v1/identity (happy paths)', () => {
  it('binds an anonymousId to an anonymous token that lives NUDGE_TOKEN_TTL', async () => {
    const t = await testApi({ NUDGE_TOKEN_TTL: '10m' })
    const before = Date.now()
    const res = await identify(t, { anonymousId: 'anon-1' })
    const body = await res.json()
    expect(res.status, JSON.stringify(body)).toBe(200)
    expect(body.profile).toBe('a:anon-1')
    expect(body.expiresAt).toBeGreaterThan(before + 9 * 60_000)
    expect(body.expiresAt).toBeLessThanOrEqual(Date.now() + 10 * 60_000)
    const identity = await verifyIdentityToken(t.serverKeys.token, body.token)
    expect(identity).toEqual({
      siteId: t.site.site.id,
      profileKey: `${t.site.site.id}:a:anon-1`,
      anonymousId: 'anon-1',
      expiresAt: body.expiresAt,
    })
  })

  it('binds a userId proven by userHash to the user profile, keeping the anonymousId', async () => {
    const t = await testApi()
    const res = await identify(t, {
      anonymousId: 'anon-1',
      userId: 'u42',
      userHash: hmac(t.site.secret, 'u42'),
    })
    const body = await res.json()
    expect(res.status, JSON.stringify(body)).toBe(200)
    expect(body.profile).toBe('u:u42')
    const identity = await verifyIdentityToken(t.serverKeys.token, body.token)
    expect(identity).toMatchObject({
      profileKey: `${t.site.site.id}:u:u42`,
      userId: 'u42',
      anonymousId: 'anon-1',
    })
  })

  it('trusts a userId without userHash when the caller sends the site secret', async () => {
    const t = await testApi()
    const res = await identify(t, { userId: 'u7' }, t.site.secret)
    expect(res.status).toBe(200)
    expect((await res.json()).profile).toBe('u:u7')
  })

  it('after rotate-secret, proofs made with the new secret work and old ones do not', async () => {
    const t = await testApi()
    const rotated = await rotateSecret(t.db, t.site.site.id, t.box)
    expect(rotated?.writeKey).toBe(t.site.writeKey)
    const fresh = await identify(t, { userId: 'u1', userHash: hmac(rotated?.secret ?? '', 'u1') })
    expect(fresh.status).toBe(200)
    const stale = await identify(t, { userId: 'u1', userHash: hmac(t.site.secret, 'u1') })
    expect(stale.status).toBe(403)
  })

  it('events sent with a user token count for the proven user (header or body field)', async () => {
    const t = await testApi()
    const { token } = await (
      await identify(t, {
        anonymousId: 'anon-9',
        userId: 'u9',
        userHash: hmac(t.site.secret, 'u9'),
      })
    ).json()
    const viaHeader = productViewed({ anonymousId: undefined })
    const viaBody = productViewed({ userId: 'u9' })
    const sent = [
      await t.app.request('/v1/events', {
        method: 'POST',
        headers: { authorization: basic(t.site.writeKey), 'x-nudge-token': token },
        body: JSON.stringify({ events: [viaHeader] }),
      }),
      await t.app.request('/v1/events', {
        method: 'POST',
        headers: { authorization: basic(t.site.writeKey) },
        body: JSON.stringify({ events: [viaBody], token }),
      }),
    ]
    for (const res of sent) {
      expect(res.status).toBe(200)
      expect(res.headers.get('x-nudge-token-error')).toBeNull()
    }
    const log = await readLog(t.redis, t.prefix, 4)
    const header = log.find((e) => e.id === viaHeader.id)
    expect(header).toMatchObject({ userId: 'u9', anonymousId: 'anon-9', verified: true })
    expect(log.find((e) => e.id === viaBody.id)).toMatchObject({ userId: 'u9', verified: true })
  })
})
