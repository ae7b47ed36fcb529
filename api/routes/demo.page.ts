/**
 * @module GET /demo: the demo store (api/demo/page.ts), served only while NUDGE_DEMO is on and a
 * demo site exists (`nudge start` creates it on an empty database); otherwise a 404 that says so.
 */
import type { Hono } from 'hono'
import { DEMO_SITE_NAME, listSites } from '../../drizzle/queries/sites'
import type { HonoEnv } from '../context'
import { type DemoProduct, demoCatalog } from '../demo/catalog'
import { demoPage } from '../demo/page'
import { ApiError } from '../errors'

const PRODUCTS = 24
let catalog: DemoProduct[] | undefined

export function register(app: Hono<HonoEnv>): void {
  app.get('/demo', async (c) => {
    const { config, db } = c.get('services')
    if (!config.NUDGE_DEMO) {
      throw new ApiError('NOT_FOUND', 'The demo store is off (NUDGE_DEMO=false).')
    }
    const site = (await listSites(db)).find((s) => s.name === DEMO_SITE_NAME)
    if (!site) {
      throw new ApiError(
        'NOT_FOUND',
        'No demo site: `npm start` creates one on an empty database (see README "Two commands").',
      )
    }
    catalog ??= demoCatalog(PRODUCTS)
    const host = config.NUDGE_PUBLIC_URL?.replace(/\/+$/, '') ?? new URL(c.req.url).origin
    return c.html(demoPage({ host, writeKey: site.writeKey, products: catalog }), 200, {
      'Cache-Control': 'no-store',
    })
  })
}
