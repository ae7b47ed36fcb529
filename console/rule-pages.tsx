/** @jsxImportSource hono/jsx */
/**
 * @module The console's rule pages: the list with figures and status buttons, the editor (new and
 * existing; save, builder redraws, unsaved preview), version history with restore, preview with
 * "test on a profile", and results with the CSV export. Every figure comes from the admin API as
 * the signed-in person; every change is forwarded with the CSRF token the form posted.
 */
import type { Hono } from 'hono'
import type { HonoEnv } from '../api/context'
import type { ApiFailure } from './admin-client'
import {
  type C,
  confirmFirst,
  failureStatus,
  formEntries,
  type PageCtx,
  pageTools,
  param,
  queryNotice,
  redirectWith,
  render,
  safeNext,
} from './page'
import { RuleEditorPage } from './pages/rule-editor'
import { RulePreviewPage } from './pages/rule-preview'
import { RuleResultsPage, resultsCsv } from './pages/rule-results'
import { RuleVersionsPage } from './pages/rule-versions'
import { RulesListPage, STATUS_FILTERS } from './pages/rules-list'
import { applyAction, draftFromForm, draftFromRule, emptyDraft, ruleFromDraft } from './rule-form'

/** The API's field issues by field path, as the editor shows them. */
function issuesOf(failure: ApiFailure): Map<string, string[]> {
  const issues = new Map<string, string[]>()
  for (const issue of failure.error.issues ?? []) {
    issues.set(issue.field, [...(issues.get(issue.field) ?? []), issue.reason])
  }
  return issues
}

/** Days of the delivered trend line per rule on the rules list. */
const TREND_DAYS = 14

/**
 * Registers /console/rules and everything under it.
 * @example registerRulePages(app)
 */
export function registerRulePages(app: Hono<HonoEnv>): void {
  const { page } = pageTools(app)

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
    if (action === 'preview') {
      const answer = await ctx.api.previewDraft(ruleFromDraft(draft))
      return render(
        c,
        <RuleEditorPage
          staff={ctx.staff}
          csrf={ctx.csrf}
          rule={rule}
          draft={draft}
          draftPreview={answer}
          issues={answer.ok ? undefined : issuesOf(answer)}
        />,
      )
    }
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
    const issues = issuesOf(res)
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
          canEdit={ctx.staff.role !== 'viewer'}
        />,
      )
    }),
  )

  app.post(
    '/console/rules/:id/restore',
    page(async (c, ctx) => {
      const form = Object.fromEntries(await formEntries(c))
      const id = param(c, 'id')
      const versions = await ctx.api.versions(id)
      const wanted = versions.ok
        ? versions.data.versions.find((v) => String(v.version) === form.version)
        : undefined
      if (!wanted) {
        return redirectWith(c, `/console/rules/${id}/versions`, false, 'No such version.')
      }
      const res = await ctx.asPosted(form._csrf ?? '').update(id, wanted.spec)
      return redirectWith(
        c,
        `/console/rules/${id}`,
        res.ok,
        res.ok
          ? `Version ${wanted.version} restored as version ${res.data.version}.`
          : `Could not restore: ${res.error.message}`,
      )
    }),
  )

  app.get(
    '/console/rules/:id/preview',
    page(async (c, ctx) => {
      const id = param(c, 'id')
      const shopper = (c.req.query('shopper') ?? '').trim()
      const [rule, preview, decisions, dryRun] = await Promise.all([
        ctx.api.rule(id),
        ctx.api.preview(id),
        shopper ? ctx.api.decisions(shopper) : Promise.resolve(undefined),
        shopper ? ctx.api.testRule(id, shopper) : Promise.resolve(undefined),
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
          dryRun={dryRun}
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
}
