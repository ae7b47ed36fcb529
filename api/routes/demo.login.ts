/**
 * @module POST /demo/login: the demo store's "backend" side of a login. It answers the userHash
 * (HMAC-SHA256 of the userId with the demo site's secret) that a real store renders into its
 * pages for `nudge.identify(userId, { userHash })`, so the demo shows proven identities without
 * ever putting the secret in the page. Demo only: anyone may log in as anyone here.
 */
import { createHmac } from 'node:crypto'
import type { Hono } from 'hono'
import { z } from 'zod'
import { DEMO_SITE_NAME, listSites } from '../../drizzle/queries/sites'
import { idString } from '../../streams/envelope'
import { readJsonBody } from '../body'
import type { HonoEnv } from '../context'
import { ApiError } from '../errors'

export const demoLoginRequest = z.object({ userId: idString })
export type DemoLoginRequest = z.infer<typeof demoLoginRequest>
export type DemoLoginResponse = { userId: string; userHash: string }

export function register(app: Hono<HonoEnv>): void {
  app.post('/demo/login', async (c) => {
    const { config, db, identity } = c.get('services')
    if (!config.NUDGE_DEMO) {
      throw new ApiError('NOT_FOUND', 'The demo store is off (NUDGE_DEMO=false).')
    }
    const parsed = demoLoginRequest.safeParse(await readJsonBody(c, 1024))
    if (!parsed.success) {
      throw new ApiError('BAD_REQUEST', 'Expected { "userId": "alice" }.', {
        issues: [{ field: 'userId', reason: 'expected 1 to 128 printable ASCII characters' }],
      })
    }
    const site = (await listSites(db)).find((s) => s.name === DEMO_SITE_NAME)
    const sealed = site && (await identity.sealedSecret(site.id))
    if (!site || !sealed) {
      throw new ApiError('NOT_FOUND', 'No demo site with a stored secret; restart `npm start`.')
    }
    const secret = identity.box.open(sealed, site.id)
    const { userId } = parsed.data
    const body: DemoLoginResponse = {
      userId,
      userHash: createHmac('sha256', secret).update(userId).digest('hex'),
    }
    return c.json(body, 200)
  })
}
