/** @jsxImportSource hono/jsx */
/**
 * @module The marketing console's pages under /console, registered on the api's Hono app (see
 * api/routes/index.ts). Every page gets its data from the admin API by calling the same app in
 * process (admin-client.ts) with the visitor's session cookie, so the first view is one browser
 * round trip and the console can do nothing the API would refuse that person.
 *
 * CSRF: pages carry the session's token in each form (`_csrf`); a change is forwarded to the API
 * with the token *the form posted*, so the API's own check decides. Read-only API calls that use
 * POST (preview) use the session's token. Any 401 redirects to the sign-in page, which brings the
 * person back afterwards. Pages are `no-store` and may not be framed.
 */
import type { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { HonoEnv } from '../api/context'
import { registerAccountPages } from './account-pages'
import { consoleScript } from './assets'
import { FORM_BYTES, pageTools, render } from './page'
import { RulesListPage } from './pages/rules-list'
import { registerRulePages } from './rule-pages'
import { registerSessionPages } from './session-pages'
import { registerSitePages } from './site-pages'
import { CONSOLE_CSS } from './styles'

/**
 * Registers every console page on `app`.
 * @example register(app) // then GET /console/rules
 */
export function register(app: Hono<HonoEnv>): void {
  const { page } = pageTools(app)

  app.use('/console/*', bodyLimit({ maxSize: FORM_BYTES }))

  app.get('/console/assets/console.css', (c) =>
    c.body(CONSOLE_CSS, 200, {
      'Content-Type': 'text/css; charset=utf-8',
      'Cache-Control': 'public, max-age=300',
    }),
  )
  app.get('/console/assets/console.js', async (c) =>
    c.body(await consoleScript(), 200, {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'public, max-age=300',
    }),
  )

  app.get('/console', (c) => c.redirect('/console/rules', 302))

  registerSessionPages(app)
  registerRulePages(app)
  registerSitePages(app)
  registerAccountPages(app)

  // Registered last: any other /console path is a page that does not exist, said as a page.
  app.all(
    '/console/*',
    page(async (c, ctx) =>
      render(
        c,
        <RulesListPage
          staff={ctx.staff}
          csrf={ctx.csrf}
          rules={[]}
          stats={[]}
          filter=""
          notice={{ kind: 'bad', text: `There is no page ${new URL(c.req.url).pathname}.` }}
        />,
        404,
      ),
    ),
  )
}
