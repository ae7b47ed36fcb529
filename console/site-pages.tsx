/** @jsxImportSource hono/jsx */
/**
 * @module The console's pages about the install and the site rather than rules: pipeline health
 * and the activity log (any role), staff and site settings (admins; the API answers 403 to anyone else, which the page
 * shows). Changes post to the console, which forwards them to the admin API with the posted CSRF
 * token and shows the outcome; a secret or first password is rendered once in the answer, never
 * put in a URL.
 */
import type { Hono } from 'hono'
import type { HonoEnv } from '../api/context'
import {
  confirmFirst,
  formEntries,
  pageTools,
  param,
  queryNotice,
  redirectWith,
  render,
} from './page'
import { ActivityPage } from './pages/activity'
import { HealthPage } from './pages/health'
import { SettingsPage } from './pages/settings'
import { StaffPage } from './pages/staff'

/**
 * Registers /console/health, /console/activity, /console/staff and /console/settings.
 * @example registerSitePages(app)
 */
export function registerSitePages(app: Hono<HonoEnv>): void {
  const { page } = pageTools(app)

  app.get(
    '/console/health',
    page(async (c, ctx) => {
      const res = await ctx.api.health()
      return render(
        c,
        <HealthPage
          staff={ctx.staff}
          csrf={ctx.csrf}
          health={res.ok ? res.data : undefined}
          error={res.ok ? undefined : res.error.message}
          notice={queryNotice(c)}
        />,
      )
    }),
  )

  app.get(
    '/console/activity',
    page(async (c, ctx) => {
      const res = await ctx.api.audit(200)
      return render(
        c,
        <ActivityPage
          staff={ctx.staff}
          csrf={ctx.csrf}
          entries={res.ok ? res.data.entries : undefined}
          notice={res.ok ? undefined : { kind: 'bad', text: res.error.message }}
        />,
      )
    }),
  )

  app.post(
    '/console/health/retry',
    page(async (c, ctx) => {
      const entries = await formEntries(c)
      const form = Object.fromEntries(entries)
      const asked = confirmFirst(c, ctx, entries, {
        question: `Put the failed ${form.queue} jobs back on the queue?`,
        yes: 'Retry them',
        back: '/console/health',
      })
      if (asked) {
        return asked
      }
      const res = await ctx.asPosted(form._csrf ?? '').retryJobs(form.queue ?? '')
      return redirectWith(
        c,
        '/console/health',
        res.ok,
        res.ok
          ? `The failed ${form.queue} jobs are back on the queue.`
          : `Could not retry: ${res.error.message}`,
      )
    }),
  )

  app.get(
    '/console/staff',
    page(async (c, ctx) => {
      const res = await ctx.api.staffList()
      return render(
        c,
        <StaffPage
          staff={ctx.staff}
          csrf={ctx.csrf}
          list={res.ok ? res.data.staff : undefined}
          notice={res.ok ? queryNotice(c) : { kind: 'bad', text: res.error.message }}
        />,
        res.ok ? 200 : 403,
      )
    }),
  )

  app.post(
    '/console/staff',
    page(async (c, ctx) => {
      const form = Object.fromEntries(await formEntries(c))
      const email = (form.email ?? '').trim()
      const role = form.role ?? 'viewer'
      const res = await ctx.asPosted(form._csrf ?? '').invite(email, role)
      const list = await ctx.api.staffList()
      return render(
        c,
        <StaffPage
          staff={ctx.staff}
          csrf={ctx.csrf}
          list={list.ok ? list.data.staff : undefined}
          invited={
            res.ok ? { email: res.data.staff.email, password: res.data.password } : undefined
          }
          invite={
            res.ok
              ? undefined
              : {
                  email,
                  role,
                  error: res.error.issues?.map((i) => i.reason).join(' ') ?? res.error.message,
                }
          }
        />,
        res.ok ? 200 : res.status === 409 ? 409 : 400,
      )
    }),
  )

  app.post(
    '/console/staff/:id/:action{role|remove}',
    page(async (c, ctx) => {
      const entries = await formEntries(c)
      const form = Object.fromEntries(entries)
      const api = ctx.asPosted(form._csrf ?? '')
      const id = param(c, 'id')
      if (param(c, 'action') === 'role') {
        const res = await api.setRole(id, form.role ?? '')
        return redirectWith(
          c,
          '/console/staff',
          res.ok,
          res.ok
            ? `Role changed to ${form.role}.`
            : `Could not change the role: ${res.error.message}`,
        )
      }
      const asked = confirmFirst(c, ctx, entries, {
        question: 'Remove this account? They are signed out at once.',
        yes: 'Remove',
        back: '/console/staff',
      })
      if (asked) {
        return asked
      }
      const res = await api.removeStaff(id)
      return redirectWith(
        c,
        '/console/staff',
        res.ok,
        res.ok ? 'The account is removed.' : `Could not remove: ${res.error.message}`,
      )
    }),
  )

  app.get(
    '/console/settings',
    page(async (c, ctx) => {
      const res = await ctx.api.settings()
      return render(
        c,
        <SettingsPage
          staff={ctx.staff}
          csrf={ctx.csrf}
          settings={res.ok ? res.data : undefined}
          notice={res.ok ? queryNotice(c) : { kind: 'bad', text: res.error.message }}
        />,
        res.ok ? 200 : 403,
      )
    }),
  )

  app.post(
    '/console/settings/origins/remove',
    page(async (c, ctx) => {
      const form = Object.fromEntries(await formEntries(c))
      const res = await ctx.asPosted(form._csrf ?? '').removeOrigin(form.origin ?? '')
      return redirectWith(
        c,
        '/console/settings',
        res.ok,
        res.ok ? `${form.origin} is no longer allowed.` : `Could not remove: ${res.error.message}`,
      )
    }),
  )

  app.post(
    '/console/settings/origins',
    page(async (c, ctx) => {
      const form = Object.fromEntries(await formEntries(c))
      const origin = (form.origin ?? '').trim()
      const res = await ctx.asPosted(form._csrf ?? '').addOrigin(origin)
      if (res.ok) {
        return redirectWith(c, '/console/settings', true, `${origin} is allowed.`)
      }
      const settings = await ctx.api.settings()
      return render(
        c,
        <SettingsPage
          staff={ctx.staff}
          csrf={ctx.csrf}
          settings={settings.ok ? settings.data : undefined}
          origin={{
            value: origin,
            error: res.error.issues?.map((i) => i.reason).join(' ') ?? res.error.message,
          }}
        />,
        400,
      )
    }),
  )

  app.post(
    '/console/settings/rotate',
    page(async (c, ctx) => {
      const entries = await formEntries(c)
      const form = Object.fromEntries(entries)
      const what = form.what === 'keys' ? 'keys' : 'secret'
      const asked = confirmFirst(c, ctx, entries, {
        question:
          what === 'keys'
            ? 'Replace both keys? Every page must load the snippet with the new write key.'
            : "Replace the secret? Your store's backend must switch to the new one at once.",
        yes: 'Rotate',
        back: '/console/settings',
      })
      if (asked) {
        return asked
      }
      const res = await ctx.asPosted(form._csrf ?? '').rotate(what)
      const settings = await ctx.api.settings()
      return render(
        c,
        <SettingsPage
          staff={ctx.staff}
          csrf={ctx.csrf}
          settings={settings.ok ? settings.data : undefined}
          rotated={res.ok ? res.data : undefined}
          notice={res.ok ? undefined : { kind: 'bad', text: `Not rotated: ${res.error.message}` }}
        />,
        res.ok ? 200 : 400,
      )
    }),
  )

  app.post(
    '/console/settings/weights',
    page(async (c, ctx) => {
      const entries = await formEntries(c)
      const form = Object.fromEntries(entries)
      const values: Record<string, string> = {}
      const weights: Record<string, number | string> = {}
      for (const [name, raw] of entries) {
        if (name.startsWith('weights.') && raw.trim() !== '') {
          const type = name.slice('weights.'.length)
          values[type] = raw
          weights[type] = Number.isFinite(Number(raw)) ? Number(raw) : raw
        }
      }
      const res = await ctx.asPosted(form._csrf ?? '').setWeights(weights)
      if (res.ok) {
        return redirectWith(c, '/console/settings', true, 'Weights saved.')
      }
      const errors: Record<string, string> = {}
      for (const issue of res.error.issues ?? []) {
        errors[issue.field.replace(/^weights\./, '')] = issue.reason
      }
      const settings = await ctx.api.settings()
      return render(
        c,
        <SettingsPage
          staff={ctx.staff}
          csrf={ctx.csrf}
          settings={settings.ok ? settings.data : undefined}
          weights={{ values, errors }}
          notice={{ kind: 'bad', text: `The weights were not saved: ${res.error.message}` }}
        />,
        400,
      )
    }),
  )

  app.post(
    '/console/settings/half-life',
    page(async (c, ctx) => {
      const form = Object.fromEntries(await formEntries(c))
      const raw = (form.hours ?? '').trim()
      const hours = raw === '' ? null : Number.isFinite(Number(raw)) ? Number(raw) : raw
      const res = await ctx.asPosted(form._csrf ?? '').setHalfLife(hours)
      if (res.ok) {
        return redirectWith(c, '/console/settings', true, 'Half-life saved.')
      }
      const settings = await ctx.api.settings()
      return render(
        c,
        <SettingsPage
          staff={ctx.staff}
          csrf={ctx.csrf}
          settings={settings.ok ? settings.data : undefined}
          halfLife={{
            value: raw,
            error: res.error.issues?.[0]?.reason ?? res.error.message,
          }}
          notice={{ kind: 'bad', text: `The half-life was not saved: ${res.error.message}` }}
        />,
        400,
      )
    }),
  )
}
