import { describe, expect, it } from 'vitest'
import { createSite } from '../../drizzle/queries/sites'
import { basic, testApi } from '../../test/harness'

describe('POST /v1/identity (errors)', () => {
  it('names what is missing or malformed', async () => {
    const t = await testApi()
    const send = (body: unknown) =>
      t.app.request('/v1/identity', {
        method: 'POST',
        headers: { authorization: basic(t.site.writeKey) },
        body: JSON.stringify(body),
      })
    const none = await send({})
    expect(none.status).toBe(400)
    expect((await none.json()).error.message).toMatch(/anonymousId/)
    const hashOnly = await send({ anonymousId: 'a', userHash: 'ab'.repeat(32) })
    expect((await hashOnly.json()).error.issues).toEqual([
      { field: 'userId', reason: 'required with userHash' },
    ])
    const badHash = await send({ userId: 'u1', userHash: 'not-hex' })
    expect(badHash.status).toBe(400)
    expect(JSON.stringify(await badHash.json())).toMatch(/64 hex characters/)
    const badId = await send({ anonymousId: 'has space' })
    expect(badId.status).toBe(400)
  })

  it('401 without a write key', async () => {
    const t = await testApi()
    const res = await t.app.request('/v1/identity', {
      method: 'POST',
      body: JSON.stringify({ anonymousId: 'a' }),
    })
    expect(res.status).toBe(401)
  })

  it('409 telling the operator to rotate, for a site made before secrets were sealed', async () => {
    const t = await testApi()
    const legacy = await createSite(t.db, { name: 'Old store', allowedOrigins: [] })
    const res = await t.app.request('/v1/identity', {
      method: 'POST',
      headers: { authorization: basic(legacy.writeKey) },
      body: JSON.stringify({ userId: 'u1', userHash: 'ab'.repeat(32) }),
    })
    const body = await res.json()
    expect(res.status, JSON.stringify(body)).toBe(409)
    expect(body.error.code).toBe('CONFLICT')
    expect(body.error.message).toContain(`npx nudge sites rotate-secret ${legacy.site.id}`)
    const anonymous = await t.app.request('/v1/identity', {
      method: 'POST',
      headers: { authorization: basic(legacy.writeKey) },
      body: JSON.stringify({ anonymousId: 'a-1' }),
    })
    expect(anonymous.status).toBe(200)
  })
})
