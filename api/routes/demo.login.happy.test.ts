import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createSite, DEMO_SITE_NAME } from '../../drizzle/queries/sites'
import { testApi } from '../../test/harness'

describe('POST /demo/login', () => {
  it('answers the userHash a store backend would render: HMAC-SHA256(site secret, userId)', async () => {
    const t = await testApi()
    const demo = await createSite(t.db, {
      name: DEMO_SITE_NAME,
      allowedOrigins: ['http://localhost:*'],
      box: t.box,
    })
    const res = await t.app.request('/demo/login', {
      method: 'POST',
      body: JSON.stringify({ userId: 'alice' }),
    })
    expect(res.status, await res.clone().text()).toBe(200)
    expect(await res.json()).toEqual({
      userId: 'alice',
      userHash: createHmac('sha256', demo.secret).update('alice').digest('hex'),
    })
    const bad = await t.app.request('/demo/login', {
      method: 'POST',
      body: JSON.stringify({ userId: 'has space' }),
    })
    expect(bad.status).toBe(400)
  })
})
