import { describe, expect, it } from 'vitest'
import { profileKey } from '../../streams/partition'
import { basic, productViewed, testApi } from '../../test/harness'
import { readLog } from '../../test/log'

describe('POST /v1/events (security)', () => {
  it('answers 401 without a write key, and for an unknown one', async () => {
    const t = await testApi()
    const body = JSON.stringify({ events: [productViewed()] })
    const none = await t.app.request('/v1/events', { method: 'POST', body })
    expect(none.status).toBe(401)
    expect(((await none.json()) as { error: { message: string } }).error.message).toContain(
      'Basic auth',
    )
    const unknown = await t.app.request('/v1/events', {
      method: 'POST',
      headers: { authorization: basic('wk_not_a_key') },
      body,
    })
    expect(unknown.status).toBe(401)
    expect(await readLog(t.redis, t.prefix, 4)).toHaveLength(0)
  })

  it('refuses a browser origin the site does not allow, readably but without credentials', async () => {
    const t = await testApi()
    const res = await t.app.request('/v1/events', {
      method: 'POST',
      headers: { authorization: basic(t.site.writeKey), origin: 'https://evil.example' },
      body: JSON.stringify({ events: [productViewed()] }),
    })
    expect(res.status).toBe(403)
    // Readable, so a browser SDK sees a 4xx and stops retrying instead of a network error.
    expect(res.headers.get('access-control-allow-origin')).toBe('https://evil.example')
    expect(res.headers.get('access-control-allow-credentials')).toBeNull()
    expect(await readLog(t.redis, t.prefix, 4)).toHaveLength(0)
    const unknownKey = await t.app.request('/v1/events', {
      method: 'POST',
      headers: { authorization: basic('wk_unknown'), origin: 'https://shop.example' },
      body: JSON.stringify({ events: [productViewed()] }),
    })
    expect(unknownKey.status).toBe(401)
    expect(unknownKey.headers.get('access-control-allow-origin')).toBe('https://shop.example')
  })

  it('echoes an allowed origin on success and on errors after the site is known', async () => {
    const t = await testApi()
    const ok = await t.app.request('/v1/events', {
      method: 'POST',
      headers: { authorization: basic(t.site.writeKey), origin: 'http://localhost:5173' },
      body: JSON.stringify({ events: [productViewed()] }),
    })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    expect(ok.headers.get('access-control-expose-headers')).toContain('Retry-After')

    const rejected = await t.app.request('/v1/events', {
      method: 'POST',
      headers: { authorization: basic(t.site.writeKey), origin: 'https://shop.example' },
      body: JSON.stringify({ events: [{ id: 'broken' }] }),
    })
    expect(rejected.status).toBe(400)
    expect(rejected.headers.get('access-control-allow-origin')).toBe('https://shop.example')
  })

  it('answers a CORS preflight with the headers real clients send', async () => {
    const t = await testApi()
    const res = await t.app.request('/v1/batch', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, rsa-retry-attempt',
      },
    })
    expect(res.status).toBe(204)
    const allowed = res.headers.get('access-control-allow-headers') ?? ''
    for (const header of [
      'Authorization',
      'X-Retry-Count',
      'AnonymousId',
      'SentAt',
      'rsa-retry-attempt',
    ]) {
      expect(allowed).toContain(header)
    }
  })

  it('never trusts a userId claimed by a browser, nor server fields it sends', async () => {
    const t = await testApi()
    const event = {
      ...productViewed({ userId: 'u-admin' }),
      verified: true,
      siteId: 'sit_other',
      receivedAt: 1,
    }
    const res = await t.app.request('/v1/events', {
      method: 'POST',
      headers: { authorization: basic(t.site.writeKey) },
      body: JSON.stringify({ events: [event] }),
    })
    expect(res.status).toBe(200)
    const [stored] = await readLog(t.redis, t.prefix, 4)
    expect(stored?.verified).toBe(false)
    expect(stored?.siteId).toBe(t.site.site.id)
    expect(stored?.receivedAt).toBeGreaterThan(1)
  })

  it('keeps a userId-only event from a write-key sender apart from the proven user', async () => {
    const t = await testApi()
    const res = await t.app.request('/v1/events', {
      method: 'POST',
      headers: { authorization: basic(t.site.writeKey) },
      body: JSON.stringify({ events: [productViewed({ userId: 'u-1', anonymousId: undefined })] }),
    })
    expect(res.status, await res.clone().text()).toBe(200)
    const [stored] = await readLog(t.redis, t.prefix, 4)
    expect(stored?.verified).toBe(false)
    expect(profileKey(t.site.site.id, stored ?? { verified: false })).toBe(
      `${t.site.site.id}:c:u-1`,
    )
  })

  it('rejects an event with neither anonymousId nor userId', async () => {
    const t = await testApi()
    const res = await t.app.request('/v1/events', {
      method: 'POST',
      headers: { authorization: basic(t.site.writeKey) },
      body: JSON.stringify({ events: [productViewed({ anonymousId: undefined })] }),
    })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { rejected: { issues: { field: string }[] }[] } }
    expect(body.error.rejected[0]?.issues[0]?.field).toBe('events[0].anonymousId')
  })
})
