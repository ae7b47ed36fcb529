/** @jsxImportSource hono/jsx */
/**
 * @module The signed-in person's own account page (/console/account, any role): change the
 * password through POST /v1/admin/password, and list, make and revoke their API tokens through
 * /v1/admin/tokens. Like every console change, each form carries the session's CSRF token and is
 * forwarded with the token it posted; all of it works without the script.
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
} from './page'
import { AccountPage, type PasswordErrors } from './pages/account'

const PATH = '/console/account'

/**
 * Registers GET /console/account and its forms.
 * @example registerAccountPages(app)
 */
export function registerAccountPages(app: Hono<HonoEnv>): void {
  const { page } = pageTools(app)

  /** The page with the person's tokens as they are now, plus whatever the post produced. */
  async function show(
    c: C,
    ctx: PageCtx,
    extra: Partial<Parameters<typeof AccountPage>[0]> = {},
    status: Parameters<typeof render>[2] = 200,
  ) {
    const tokens = await ctx.api.tokens()
    return render(
      c,
      <AccountPage
        staff={ctx.staff}
        csrf={ctx.csrf}
        tokens={tokens.ok ? tokens.data.tokens : undefined}
        tokenDays={tokens.ok ? tokens.data.expiresInDays : undefined}
        tokensError={tokens.ok ? undefined : tokens.error.message}
        {...extra}
      />,
      status,
    )
  }

  app.get(
    PATH,
    page((c, ctx) => show(c, ctx, { notice: queryNotice(c) })),
  )

  app.post(
    `${PATH}/password`,
    page(async (c, ctx) => {
      const form = Object.fromEntries(await formEntries(c))
      const current = form.currentPassword ?? ''
      const next = form.newPassword ?? ''
      if (next !== (form.confirmPassword ?? '')) {
        return show(
          c,
          ctx,
          {
            passwordErrors: { confirmPassword: 'the two new passwords differ; type it again' },
            notice: { kind: 'bad', text: 'Your password was not changed.' },
          },
          400,
        )
      }
      const res = await ctx.asPosted(form._csrf ?? '').changePassword(current, next)
      if (res.ok) {
        const others = res.data.otherSessionsEnded
        return redirectWith(
          c,
          PATH,
          true,
          `Your password is changed.${others > 0 ? ` ${others === 1 ? 'One other place' : `${others} other places`} where you were signed in ${others === 1 ? 'is' : 'are'} signed out.` : ''}`,
        )
      }
      return show(
        c,
        ctx,
        {
          passwordErrors: passwordErrors(res),
          notice: { kind: 'bad', text: `Your password was not changed: ${res.error.message}` },
        },
        failureStatus(res),
      )
    }),
  )

  app.post(
    `${PATH}/tokens`,
    page(async (c, ctx) => {
      const form = Object.fromEntries(await formEntries(c))
      const name = (form.name ?? '').trim()
      const days = (form.days ?? '').trim()
      const res = await ctx
        .asPosted(form._csrf ?? '')
        .createToken(name, Number.isFinite(Number(days)) && days !== '' ? Number(days) : days)
      if (res.ok) {
        return show(c, ctx, { made: res.data })
      }
      const errors: { name?: string; days?: string } = {}
      for (const issue of res.error.issues ?? []) {
        if (issue.field === 'name') {
          errors.name = issue.reason
        } else if (issue.field === 'expiresInDays') {
          errors.days = issue.reason
        }
      }
      return show(
        c,
        ctx,
        {
          newToken: { name, days, errors },
          notice: { kind: 'bad', text: `No token was made: ${res.error.message}` },
        },
        failureStatus(res),
      )
    }),
  )

  app.post(
    `${PATH}/tokens/:id/revoke`,
    page(async (c, ctx) => {
      const entries = await formEntries(c)
      const form = Object.fromEntries(entries)
      const asked = confirmFirst(c, ctx, entries, {
        question: 'Revoke this token? Scripts using it stop working at once.',
        yes: 'Revoke',
        back: PATH,
      })
      if (asked) {
        return asked
      }
      const res = await ctx.asPosted(form._csrf ?? '').revokeToken(param(c, 'id'))
      return redirectWith(
        c,
        PATH,
        res.ok,
        res.ok ? 'The token is revoked.' : `Could not revoke: ${res.error.message}`,
      )
    }),
  )
}

/** The API's field issues, keyed by the form's field names. */
function passwordErrors(res: ApiFailure): PasswordErrors {
  const errors: PasswordErrors = {}
  for (const issue of res.error.issues ?? []) {
    if (issue.field === 'currentPassword' || issue.field === 'newPassword') {
      errors[issue.field] = issue.reason
    }
  }
  if (res.status === 429) {
    errors.currentPassword = res.error.message
  }
  return errors
}
