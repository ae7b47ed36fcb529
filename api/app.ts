/**
 * @module createApp(services): the Hono app of the api role — request ids, CORS preflight,
 * one error handler, a JSON 404, and every route from routes/index.ts.
 */
import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import { newId } from '../runtime/ids'
import type { HonoEnv, Services } from './context'
import { preflight } from './cors'
import { ApiError, handleError } from './errors'
import { routes } from './routes'

/**
 * @example const app = createApp(services); serve({ fetch: app.fetch, port: 3000 })
 */
export function createApp(services: Services): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>()
  app.use(requestId({ generator: () => newId('request') }))
  app.use(async (c, next) => {
    c.set('services', services)
    await next()
    // routePath is the pattern (/v1/projects/:writeKey/settings), so label values stay bounded.
    services.metrics.httpRequests.inc({ route: c.req.routePath, status: c.res.status })
  })
  app.use(preflight)
  for (const route of routes) {
    route.register(app)
  }
  app.notFound((c) =>
    handleError(
      new ApiError(
        'NOT_FOUND',
        `No endpoint ${c.req.method} ${c.req.path}; see README "Ingest API".`,
      ),
      c,
    ),
  )
  app.onError(handleError)
  return app
}

export type AppType = ReturnType<typeof createApp>
