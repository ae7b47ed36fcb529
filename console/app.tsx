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
import type { ApiFailure } from './admin-client'
import { consoleScript } from './assets'
import type { Notice } from './layout'
import {
  type C,
  confirmFirst,
  FORM_BYTES,
  failureStatus,
  formEntries,
  type PageCtx,
  pageTools,
  param,
  queryNotice,
  render,
  safeNext,
} from './page'
import { RuleEditorPage } from './pages/rule-editor'
import { RulePreviewPage } from './pages/rule-preview'
import { RuleResultsPage, resultsCsv } from './pages/rule-results'
import { RuleVersionsPage } from './pages/rule-versions'
import { RulesListPage, STATUS_FILTERS } from './pages/rules-list'
import { SignInPage } from './pages/sign-in'
import { applyAction, draftFromForm, draftFromRule, emptyDraft, ruleFromDraft } from './rule-form'
import { registerSitePages } from './site-pages'
import { CONSOLE_CSS } from './styles'

/** Days of the delivered trend line per rule on the rules list. */
const TREND_DAYS = 14

/**
 * Registers every console page on `app`.
 * @example register(app) // then GET /console/rules
 */
export function register(app: Hono<HonoEnv>): void {
  const { request, page } = pageTools(app)

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

  app.get('/console/sign-in', (c) => {
    const expired = c.req.query('expired') === '1'
    const notice: Notice | undefined = expired
      ? { kind: 'bad', text: 'Please sign in (your session ended or you are not signed in yet).' }
      : c.req.query('out') === '1'
        ? { kind: 'good', text: 'You are signed out.' }
        : undefined
    return render(c, <SignInPage next={safeNext(c.req.query('next'))} notice={notice} />)
  })

  app.post('/console/sign-in', async (c) => {
    const form = Object.fromEntries(await formEntries(c))
    const email = (form.email ?? '').trim()
    const res = await request(new URL('/v1/admin/login', c.req.url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email,
        password: form.password ?? '',
        ...(form.siteId && { siteId: form.siteId }),
      }),
    })
    if (res.ok) {
      const cookie = res.headers.get('set-cookie')
      if (cookie) {
        c.header('Set-Cookie', cookie, { append: true })
      }
      return c.redirect(safeNext(form.next), 303)
    }
    const body = (await res.json().catch(() => ({}))) as {
      error?: { message?: string; sites?: string[]; issues?: { reason: string }[] }
    }
    const error =
      res.status === 400
        ? 'Enter your email and password.'
        : (body.error?.message ?? `Sign-in failed (${res.status}); please try again.`)
    return render(
      c,
      <SignInPage
        email={email}
        next={safeNext(form.next)}
        error={error}
        sites={body.error?.sites}
      />,
      res.status === 401
        ? 403
        : failureStatus({ ok: false, status: res.status, error: body.error as never }),
    )
  })

  app.post('/console/sign-out', async (c) => {
    const form = Object.fromEntries(await formEntries(c))
    const res = await request(new URL('/v1/admin/logout', c.req.url).href, {
      method: 'POST',
      headers: { cookie: c.req.header('cookie') ?? '', 'x-csrf-token': form._csrf ?? '' },
    })
    // 401: already signed out (or expired), which is what the person wanted.
    if (!res.ok && res.status !== 401) {
      const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } }
      return c.redirect(
        `/console/rules?failed=${encodeURIComponent(body.error?.message ?? 'Could not sign out.')}`,
        303,
      )
    }
    const cookie = res.headers.get('set-cookie')
    if (cookie) {
      c.header('Set-Cookie', cookie, { append: true })
    }
    return c.redirect('/console/sign-in?out=1', 303)
  })

  app.get(
    '/console/rules',
    page(async (c, ctx) => {
      const requested = c.req.query('status') ?? ''
      const filter = (STATUS_FILTERS as readonly string[]).includes(requested) ? requested : ''
      const [rules, stats, daily] = await Promise.all([
        ctx.api.rules(filter || 'draft,active,paused'),
        ctx.api.stats(),
        ctx.api.dailyAll(TREND_DAYS),
      ])
      const failed = [rules, stats].find((r) => !r.ok) as ApiFailure | undefined
      const done = c.req.query('done')
      return render(
        c,
        <RulesListPage
          staff={ctx.staff}
          csrf={ctx.csrf}
          rules={rules.ok ? rules.data.rules : []}
          stats={stats.ok ? stats.data.rules : []}
          trends={
            new Map(
              (daily.ok ? daily.data.rules : []).map((r) => [
                r.ruleId,
                r.days.map((d) => d.delivered),
              ]),
            )
          }
          filter={filter}
          notice={
            failed
              ? { kind: 'bad', text: failed.error.message }
              : done
                ? { kind: 'good', text: done }
                : undefined
          }
        />,
        failed ? failureStatus(failed) : 200,
      )
    }),
  )

  app.post(
    '/console/rules/:id/:action{activate|pause|archive}',
    page(async (c, ctx) => {
      const entries = await formEntries(c)
      const form = Object.fromEntries(entries)
      const id = param(c, 'id')
      const action = param(c, 'action') as 'activate' | 'pause' | 'archive'
      const back = safeNext(form.back)
      const verb = `${action[0]?.toUpperCase()}${action.slice(1)}`
      const rule = form.confirmed === '1' ? undefined : await ctx.api.rule(id)
      const asked = confirmFirst(c, ctx, entries, {
        question: `${verb} ${rule?.ok ? `“${rule.data.name}”` : 'this rule'}?`,
        yes: verb,
        back,
      })
      if (asked) {
        return asked
      }
      const res = await ctx.asPosted(form._csrf ?? '').setStatus(id, action)
      const sep = back.includes('?') ? '&' : '?'
      const text = res.ok
        ? `“${res.data.name}” is now ${res.data.status}.`
        : `Could not ${action} the rule: ${res.error.message}`
      return c.redirect(
        `${back}${sep}${res.ok ? 'done' : 'failed'}=${encodeURIComponent(text)}`,
        303,
      )
    }),
  )

  app.get(
    '/console/rules/new',
    page(async (c, ctx) =>
      render(c, <RuleEditorPage staff={ctx.staff} csrf={ctx.csrf} draft={emptyDraft()} />),
    ),
  )

  app.get(
    '/console/rules/:id',
    page(async (c, ctx) => {
      const res = await ctx.api.rule(param(c, 'id'))
      if (!res.ok) {
        return render(
          c,
          <RulesListPage
            staff={ctx.staff}
            csrf={ctx.csrf}
            rules={[]}
            stats={[]}
            filter=""
            notice={{ kind: 'bad', text: res.error.message }}
          />,
          failureStatus(res),
        )
      }
      return render(
        c,
        <RuleEditorPage
          staff={ctx.staff}
          csrf={ctx.csrf}
          rule={res.data}
          draft={draftFromRule(res.data)}
          notice={queryNotice(c)}
        />,
      )
    }),
  )

  /** Save (create or new version), or redraw after a builder button. */
  async function editorPost(c: C, ctx: PageCtx, id?: string): Promise<Response> {
    const entries = await formEntries(c)
    const fields = new Map(entries)
    const action = fields.get('_action') ?? 'save'
    const draft = draftFromForm(entries)
    const current = id ? await ctx.api.rule(id) : undefined
    if (current && !current.ok) {
      return c.redirect(`/console/rules?failed=${encodeURIComponent(current.error.message)}`, 303)
    }
    const rule = current?.ok ? current.data : undefined
    if (action !== 'save') {
      let focus: string | undefined
      try {
        focus = applyAction(draft, action)
      } catch {
        focus = undefined
      }
      return render(
        c,
        <RuleEditorPage
          staff={ctx.staff}
          csrf={ctx.csrf}
          rule={rule}
          draft={draft}
          focus={focus}
        />,
      )
    }
    const api = ctx.asPosted(fields.get('_csrf') ?? '')
    const body = ruleFromDraft(draft)
    const res = id ? await api.update(id, body) : await api.create(body)
    if (res.ok) {
      const note = id ? `Saved as version ${res.data.version}.` : 'Saved as a draft.'
      return c.redirect(`/console/rules/${res.data.id}?done=${encodeURIComponent(note)}`, 303)
    }
    const issues = new Map<string, string[]>()
    for (const issue of res.error.issues ?? []) {
      issues.set(issue.field, [...(issues.get(issue.field) ?? []), issue.reason])
    }
    return render(
      c,
      <RuleEditorPage
        staff={ctx.staff}
        csrf={ctx.csrf}
        rule={rule}
        draft={draft}
        issues={issues}
        error={
          issues.size > 0
            ? `The rule was not saved: please fix ${issues.size === 1 ? 'this field' : `these ${issues.size} fields`}.`
            : `The rule was not saved: ${res.error.message}`
        }
      />,
      failureStatus(res),
    )
  }

  app.post(
    '/console/rules/new',
    page((c, ctx) => editorPost(c, ctx)),
  )
  app.post(
    '/console/rules/:id',
    page((c, ctx) => editorPost(c, ctx, param(c, 'id'))),
  )

  app.get(
    '/console/rules/:id/versions',
    page(async (c, ctx) => {
      const id = param(c, 'id')
      const [rule, versions] = await Promise.all([ctx.api.rule(id), ctx.api.versions(id)])
      if (!rule.ok || !versions.ok) {
        const failed = (rule.ok ? versions : rule) as ApiFailure
        return c.redirect(`/console/rules?failed=${encodeURIComponent(failed.error.message)}`, 303)
      }
      return render(
        c,
        <RuleVersionsPage
          staff={ctx.staff}
          csrf={ctx.csrf}
          rule={rule.data}
          versions={versions.data.versions}
          from={Number(c.req.query('from')) || undefined}
          to={Number(c.req.query('to')) || undefined}
        />,
      )
    }),
  )

  app.get(
    '/console/rules/:id/preview',
    page(async (c, ctx) => {
      const id = param(c, 'id')
      const shopper = (c.req.query('shopper') ?? '').trim()
      const [rule, preview, decisions] = await Promise.all([
        ctx.api.rule(id),
        ctx.api.preview(id),
        shopper ? ctx.api.decisions(shopper) : Promise.resolve(undefined),
      ])
      if (!rule.ok) {
        return c.redirect(`/console/rules?failed=${encodeURIComponent(rule.error.message)}`, 303)
      }
      return render(
        c,
        <RulePreviewPage
          staff={ctx.staff}
          csrf={ctx.csrf}
          rule={rule.data}
          preview={preview}
          shopper={shopper}
          decisions={decisions}
          notice={queryNotice(c)}
        />,
      )
    }),
  )

  const DAYS = 30

  app.get(
    '/console/rules/:id/results',
    page(async (c, ctx) => {
      const id = param(c, 'id')
      const [rule, daily, stats] = await Promise.all([
        ctx.api.rule(id),
        ctx.api.daily(id, DAYS),
        ctx.api.stats(),
      ])
      if (!rule.ok) {
        return c.redirect(`/console/rules?failed=${encodeURIComponent(rule.error.message)}`, 303)
      }
      return render(
        c,
        <RuleResultsPage
          staff={ctx.staff}
          csrf={ctx.csrf}
          rule={rule.data}
          daily={daily}
          totals={stats.ok ? stats.data.rules.find((s) => s.ruleId === id) : undefined}
        />,
      )
    }),
  )

  app.get(
    '/console/rules/:id/results.csv',
    page(async (c, ctx) => {
      const id = param(c, 'id')
      const daily = await ctx.api.daily(id, Number(c.req.query('days')) || DAYS)
      if (!daily.ok) {
        return c.text(daily.error.message, failureStatus(daily))
      }
      return c.body(resultsCsv(daily.data), 200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="nudge-${id}-daily.csv"`,
        'Cache-Control': 'no-store',
      })
    }),
  )

  registerSitePages(app)
}
