/** @jsxImportSource hono/jsx */
/**
 * @module What every console page handler shares: the signed-in wrapper (session from GET
 * /v1/admin/session; a 401 anywhere redirects to sign-in and back), the admin client as the
 * visitor, and rendering with the console's headers (`no-store`, no framing, a CSP allowing only
 * the console's own script and stylesheet).
 */
import type { Context, Hono } from 'hono'
import { html } from 'hono/html'
import type { HonoEnv } from '../api/context'
import {
  type AdminClient,
  type AppRequest,
  createAdminClient,
  SignInNeeded,
  type StaffView,
} from './admin-client'
import type { Notice } from './layout'
import { ConfirmPage } from './pages/confirm'
import { SignInPage } from './pages/sign-in'

export type C = Context<HonoEnv>

/** What a signed-in page handler gets. */
export type PageCtx = {
  staff: StaffView
  /** The session's CSRF token, rendered into forms. */
  csrf: string
  /** The admin API as this person, for reads (and read-only POSTs such as preview). */
  api: AdminClient
  /** The admin API as this person, for a change, with the CSRF token the form posted. */
  asPosted(token: string): AdminClient
}

export const FORM_BYTES = 256 * 1024

/** The rule editor's pages (new, or one rule), whose posts survive an ended session. */
export const EDITOR_PATH = /^\/console\/rules\/(new|rul_[^/]+)$/

/** Prefix of the editor's fields carried through the sign-in form. */
export const CARRY = 'carry:'

const HEADERS = {
  'Cache-Control': 'no-store',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' https: data:; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
}

export function render(
  c: C,
  page: unknown,
  status: 200 | 400 | 401 | 403 | 404 | 409 | 429 | 500 = 200,
) {
  return c.html(html`<!doctype html>${page}`, status, HEADERS)
}

/** Only console paths are followed after sign-in (never another site). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' &&
    /^\/console(\/|$|\?)/.test(next) &&
    !next.includes('..') &&
    !next.includes('\\')
    ? next
    : '/console/rules'
}

/** The status a page answers with after a failed API call (what the browser and tests see). */
export function failureStatus(failure: { status: number }): 400 | 403 | 404 | 409 | 429 | 500 {
  return ([400, 403, 404, 409, 429] as const).find((s) => s === failure.status) ?? 500
}

/** The outcome of a change a redirect carries (`?done=…` / `?failed=…`), as a notice. */
export function queryNotice(c: C): Notice | undefined {
  const failed = c.req.query('failed')
  const done = c.req.query('done')
  return failed ? { kind: 'bad', text: failed } : done ? { kind: 'good', text: done } : undefined
}

/** Redirects to `path` with the outcome of a change in words. */
export function redirectWith(c: C, path: string, ok: boolean, text: string): Response {
  const sep = path.includes('?') ? '&' : '?'
  return c.redirect(`${path}${sep}${ok ? 'done' : 'failed'}=${encodeURIComponent(text)}`, 303)
}

/**
 * Unless the post says `confirmed=1` (the script adds it after its `confirm()`), the page that
 * asks `question` first and posts the same fields again; undefined when confirmed.
 */
export function confirmFirst(
  c: C,
  ctx: PageCtx,
  entries: [string, string][],
  ask: { question: string; yes: string; back: string },
): Response | Promise<Response> | undefined {
  if (entries.some(([name, value]) => name === 'confirmed' && value === '1')) {
    return undefined
  }
  return render(
    c,
    <ConfirmPage
      staff={ctx.staff}
      csrf={ctx.csrf}
      question={ask.question}
      action={new URL(c.req.url).pathname}
      fields={entries}
      yes={ask.yes}
      back={ask.back}
    />,
  )
}

/** A path parameter of the matched console route (always present there). */
export function param(c: C, name: string): string {
  return c.req.param(name) ?? ''
}

export async function formEntries(c: C): Promise<[string, string][]> {
  const form = await c.req.formData()
  const entries: [string, string][] = []
  form.forEach((value, name) => {
    if (typeof value === 'string') {
      entries.push([name, value])
    }
  })
  return entries
}

/**
 * The console's page tools on `app`: its in-process admin client and the signed-in wrapper.
 * @example const { page } = pageTools(app); app.get('/console/x', page(async (c, ctx) => …))
 */
export function pageTools(app: Hono<HonoEnv>) {
  /**
   * The api in process as the visitor's own connection, so per-IP limits such as sign-in's count
   * the visitor, not the console: any X-Forwarded-For goes along (believed only with
   * NUDGE_TRUST_PROXY, as on a direct call), and so does the visitor's socket — as the `server`
   * binding that @hono/node-server's getConnInfo reads first, not as `incoming`, whose body the
   * console has already read (api/body.ts would wait on it forever).
   */
  function requestFor(c: C): AppRequest {
    const forwarded = c.req.header('x-forwarded-for')
    const socket = (c.env as { incoming?: { socket?: unknown } } | undefined)?.incoming?.socket
    const env = socket ? { server: { incoming: { socket } } } : undefined
    return (url, init) => {
      const headers = new Headers(init.headers)
      if (forwarded !== undefined && !headers.has('x-forwarded-for')) {
        headers.set('x-forwarded-for', forwarded)
      }
      return app.request(url, { ...init, headers }, env)
    }
  }

  function clientFor(c: C, csrf?: string): AdminClient {
    return createAdminClient(requestFor(c), c.req.url, {
      cookie: c.req.header('cookie') ?? '',
      csrf,
    })
  }

  /** Wraps a page that needs a signed-in person; no session (or an expired one) → sign-in. */
  function page(handler: (c: C, ctx: PageCtx) => Promise<Response>) {
    return async (c: C) => {
      try {
        const session = await clientFor(c).session()
        if (!session.ok) {
          return render(c, <SignInPage error={session.error.message} />, failureStatus(session))
        }
        const csrf = session.data.csrfToken ?? ''
        return await handler(c, {
          staff: session.data.staff,
          csrf,
          api: clientFor(c, csrf),
          asPosted: (token) => clientFor(c, token),
        })
      } catch (err) {
        if (err instanceof SignInNeeded) {
          const url = new URL(c.req.url)
          if (c.req.method === 'POST' && EDITOR_PATH.test(url.pathname)) {
            // A rule being written when the session ended: carried through sign-in, not lost.
            const carry = (await formEntries(c)).filter(([name]) => !name.startsWith('_'))
            return render(
              c,
              <SignInPage
                next={url.pathname}
                carry={carry}
                notice={{
                  kind: 'bad',
                  text: 'Your session ended before this rule was saved. Sign in again: your changes come back, not saved yet.',
                }}
              />,
              401,
            )
          }
          const next = c.req.method === 'GET' ? url.pathname + url.search : url.pathname
          return c.redirect(`/console/sign-in?next=${encodeURIComponent(next)}&expired=1`, 303)
        }
        throw err
      }
    }
  }
  return { requestFor, clientFor, page }
}
