/**
 * @module The settings documents browser SDKs load before sending: analytics.js
 * (`GET /v1/projects/:writeKey/settings`) and RudderStack JS v3 (`GET /sourceConfig`), so both
 * run with no vendor CDN and send their events back to this server. Origins are checked as for
 * ingest, so a page may load them only from an allowed origin.
 */
import type { Context, Hono } from 'hono'
import type { HonoEnv } from '../context'
import { authorize, writeKeyOf } from '../ingest'
import { analyticsJsSettings, rudderSourceConfig } from '../segment/settings'

/** Where browsers reach this server: NUDGE_PUBLIC_URL, else the request's own URL. */
function publicBase(c: Context<HonoEnv>): URL {
  const configured = c.get('services').config.NUDGE_PUBLIC_URL
  return new URL(configured ?? new URL(c.req.url).origin)
}

export function register(app: Hono<HonoEnv>): void {
  app.get('/v1/projects/:writeKey/settings', async (c) => {
    const writeKey = c.req.param('writeKey')
    await authorize(c, writeKey)
    const base = publicBase(c)
    return c.json(
      analyticsJsSettings({
        writeKey,
        apiHost: `${base.host}${base.pathname.replace(/\/$/, '')}/v1`,
        protocol: base.protocol === 'https:' ? 'https' : 'http',
      }),
    )
  })

  const sourceConfig = async (c: Context<HonoEnv>) => {
    const writeKey = writeKeyOf(c, undefined)
    const { site } = await authorize(c, writeKey)
    return c.json(
      rudderSourceConfig({
        writeKey: site.writeKey,
        siteId: site.id,
        siteName: site.name,
        dataPlaneUrl: publicBase(c).toString().replace(/\/$/, ''),
      }),
    )
  }
  app.get('/sourceConfig', sourceConfig)
  app.get('/sourceConfig/', sourceConfig)
}
