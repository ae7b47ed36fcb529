/** @jsxImportSource hono/jsx */
/**
 * @module Signing in and out of the console. Sign-in posts to POST /v1/admin/login in process and
 * passes its session cookie on; only console paths are followed afterwards. A rule being written
 * when the session ended comes through sign-in in hidden fields and opens again, unsaved.
 * Sign-out ends the session through POST /v1/admin/logout (with the posted CSRF token). While
 * the sign-in limit cannot be checked (Redis away), the page says so with the API's 503.
 */
import type { Hono } from 'hono'
import type { HonoEnv } from '../api/context'
import { createAdminClient } from './admin-client'
import type { Notice } from './layout'
import {
  type C,
  CARRY,
  EDITOR_PATH,
  failureStatus,
  formEntries,
  pageTools,
  render,
  safeNext,
} from './page'
import { RuleEditorPage } from './pages/rule-editor'
import { SignInPage } from './pages/sign-in'
import { draftFromForm } from './rule-form'

/**
 * Registers GET/POST /console/sign-in and POST /console/sign-out.
 * @example registerSessionPages(app)
 */
export function registerSessionPages(app: Hono<HonoEnv>): void {
  const { requestFor } = pageTools(app)

  app.get('/console/sign-in', async (c) => {
    // Already signed in: straight on to where they were going.
    if (c.req.header('cookie')?.includes('=')) {
      const res = await requestFor(c)(new URL('/v1/admin/session', c.req.url).href, {
        headers: { cookie: c.req.header('cookie') ?? '' },
      })
      if (res.ok) {
        return c.redirect(safeNext(c.req.query('next')), 303)
      }
    }
    const expired = c.req.query('expired') === '1'
    const notice: Notice | undefined = expired
      ? { kind: 'bad', text: 'Please sign in (your session ended or you are not signed in yet).' }
      : c.req.query('out') === '1'
        ? { kind: 'good', text: 'You are signed out.' }
        : undefined
    return render(c, <SignInPage next={safeNext(c.req.query('next'))} notice={notice} />)
  })

  app.post('/console/sign-in', async (c) => {
    const entries = await formEntries(c)
    const form = Object.fromEntries(entries)
    const carry: [string, string][] = entries
      .filter(([name]) => name.startsWith(CARRY))
      .map(([name, value]) => [name.slice(CARRY.length), value])
    const email = (form.email ?? '').trim()
    const res = await requestFor(c)(new URL('/v1/admin/login', c.req.url).href, {
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
      const next = safeNext(form.next)
      if (carry.length > 0 && EDITOR_PATH.test(next)) {
        return reopenEditor(c, next, cookie?.split(';')[0] ?? '', carry)
      }
      return c.redirect(next, 303)
    }
    const body = (await res.json().catch(() => ({}))) as {
      error?: { message?: string; sites?: string[]; issues?: { reason: string }[] }
    }
    const error =
      res.status === 400
        ? 'Enter your email and password.'
        : (body.error?.message ?? `Sign-in failed (${res.status}); please try again.`)
    const retryAfter = res.headers.get('retry-after')
    if ((res.status === 429 || res.status === 503) && retryAfter) {
      c.header('Retry-After', retryAfter)
    }
    const page = await render(
      c,
      <SignInPage
        email={email}
        next={safeNext(form.next)}
        error={error}
        sites={body.error?.sites}
        carry={carry}
      />,
      res.status === 401 ? 403 : failureStatus(res),
    )
    // A 503 (the sign-in limit cannot be checked while Redis is away) stays a 503 with its
    // Retry-After, so browsers and monitors read "try again shortly", not a fault; render() only
    // knows the statuses every console page meets.
    return res.status === 503
      ? new Response(page.body, { status: 503, headers: page.headers })
      : page
  })

  /** After signing in again mid-edit: the editor with the carried fields, not saved yet. */
  async function reopenEditor(c: C, path: string, cookie: string, carry: [string, string][]) {
    const api = createAdminClient(requestFor(c), c.req.url, { cookie })
    const session = await api.session()
    if (!session.ok) {
      return c.redirect(path, 303)
    }
    const id = path.split('/').pop() as string
    const rule = id === 'new' ? undefined : await api.rule(id)
    return render(
      c,
      <RuleEditorPage
        staff={session.data.staff}
        csrf={session.data.csrfToken ?? ''}
        rule={rule?.ok ? rule.data : undefined}
        draft={draftFromForm(carry)}
        notice={{ kind: 'good', text: 'Signed in again. Your changes are below, not saved yet.' }}
      />,
    )
  }

  app.post('/console/sign-out', async (c) => {
    const form = Object.fromEntries(await formEntries(c))
    const res = await requestFor(c)(new URL('/v1/admin/logout', c.req.url).href, {
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
}
