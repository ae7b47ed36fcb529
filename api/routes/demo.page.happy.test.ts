import { describe, expect, it } from 'vitest'
import { createSite, DEMO_SITE_NAME } from '../../drizzle/queries/sites'
import { testApi } from '../../test/harness'

describe('GET /demo', () => {
  it('serves the store with the demo site’s write key in the snippet and tagged products', async () => {
    const t = await testApi({ NUDGE_PUBLIC_URL: 'https://nudge.example.org' })
    const demo = await createSite(t.db, {
      name: DEMO_SITE_NAME,
      allowedOrigins: ['http://localhost:*'],
      box: t.box,
    })
    const res = await t.app.request('/demo')
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain(`nudge.init({ writeKey: "${demo.writeKey}" })`)
    expect(html).toContain(`}(window, document, "https://nudge.example.org")`)
    expect(html.match(/data-nudge-product-id="\d+"/g)).toHaveLength(24)
    expect(html).toContain('CC BY 4.0')
  })

  it('is a 404 without a demo site, and with NUDGE_DEMO=false', async () => {
    const t = await testApi()
    expect((await t.app.request('/demo')).status).toBe(404)
    const off = await testApi({ NUDGE_DEMO: 'false' })
    await createSite(off.db, { name: DEMO_SITE_NAME, allowedOrigins: [], box: off.box })
    const res = await off.app.request('/demo')
    expect(res.status).toBe(404)
    expect(await res.text()).toContain('NUDGE_DEMO=false')
  })
})
