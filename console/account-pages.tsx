/** @jsxImportSource hono/jsx */
/**
 * @module The signed-in person's own account page (/console/account, any role): change the
 * password through POST /v1/admin/password, and list, make and revoke their API tokens through
 * /v1/admin/tokens. Like every console change, each form carries the session's CSRF token and is
 * forwarded with the token it posted; all of it works without the script.
 *
 * A password change replaces the browser's session (the API answers with a new cookie, which is
 * passed on with the redirect) and, unless the box is unticked, revokes the person's API tokens.
 * Making a token is post/redirect/get: the POST redirects to `?made=<id>`, and the new token's
 * secret rides along once in a short-lived cookie sealed to this session, which the GET reads and
 * deletes. Refreshing the result re-sends only the GET: no second token, and the secret is not
 * shown again.
 */
import type { Hono } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { HonoEnv } from '../api/context'
import type {
  ApiFailure,
  ApiResult,
  PasswordChangeResponse,
  TokenListResponse,
} from './admin-client'
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

/** Carries a new token's secret from the POST that made it to the one GET that shows it. */
const NEW_TOKEN_COOKIE = 'nudge_new_token'

/** Long enough for the redirect to be followed; an unshown secret does not linger longer. */
const NEW_TOKEN_COOKIE_S = 60

/**
 * What the new-token cookie is sealed to: this person's current session (its CSRF token), so the
 * cookie opens for nobody else, and never in another session of the same browser. The seal is
 * the server's secret box (NUDGE_SECRET_KEY); the distinct context keeps it apart from the site
 * secrets that box also seals, whose context is a site id.
 */
function newTokenContext(ctx: PageCtx): string {
  return `console new token:${ctx.staff.id}:${ctx.csrf}`
}

/** The form's "Also revoke my API tokens": an unticked checkbox sends nothing at all. */
function asksToRevoke(form: Record<string, string>): boolean {
  return form.revokeTokens !== undefined
}

/** What a password change did, in words, for the notice after the redirect. */
function changedText(done: PasswordChangeResponse, askedToRevoke: boolean): string {
  const others = done.otherSessionsEnded
  const sessions =
    others === 0
      ? ''
      : ` ${others === 1 ? 'One other place' : `${others} other places`} where you were signed in ${others === 1 ? 'is' : 'are'} signed out.`
  const n = done.tokensRevoked
  const tokens = !askedToRevoke
    ? ' Your API tokens still work.'
    : n === 0
      ? ' You had no API tokens to revoke.'
      : ` ${n === 1 ? 'Your API token is' : `Your ${n} API tokens are`} revoked.`
  return `Your password is changed.${sessions}${tokens}`
}

/**
 * Registers GET /console/account and its forms.
 * @example registerAccountPages(app)
 */
export function registerAccountPages(app: Hono<HonoEnv>): void {
  const { page } = pageTools(app)

  /**
   * The page with the person's tokens as they are now (`listed`, when the caller already asked),
   * plus whatever the post produced.
   */
  async function show(
    c: C,
    ctx: PageCtx,
    extra: Partial<Parameters<typeof AccountPage>[0]> = {},
    status: Parameters<typeof render>[2] = 200,
    listed?: ApiResult<TokenListResponse>,
  ) {
    const tokens = listed ?? (await ctx.api.tokens())
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

  /**
   * The secret of token `id` if this request carries it (sealed to this session), deleting the
   * cookie so it is shown once; undefined otherwise. A cookie for another token (made in another
   * tab meanwhile) is left for that token's own redirect.
   */
  function takeNewToken(c: C, ctx: PageCtx, id: string): string | undefined {
    const sealed = getCookie(c, NEW_TOKEN_COOKIE)
    if (sealed === undefined) {
      return undefined
    }
    let carried: { id?: unknown; token?: unknown }
    try {
      carried = JSON.parse(c.get('services').identity.box.open(sealed, newTokenContext(ctx)))
    } catch {
      // Altered, or sealed to another session: useless to anyone, so gone.
      deleteCookie(c, NEW_TOKEN_COOKIE, { path: PATH })
      return undefined
    }
    if (carried.id !== id || typeof carried.token !== 'string') {
      return undefined
    }
    deleteCookie(c, NEW_TOKEN_COOKIE, { path: PATH })
    return carried.token
  }

  app.get(
    PATH,
    page(async (c, ctx) => {
      const made = c.req.query('made')
      if (!made) {
        return show(c, ctx, { notice: queryNotice(c) })
      }
      const tokens = await ctx.api.tokens()
      if (!tokens.ok) {
        // The list says why; the secret's cookie is kept for a reload within its minute.
        return show(c, ctx, {}, 200, tokens)
      }
      const token = tokens.data.tokens.find((t) => t.id === made)
      if (!token) {
        return show(c, ctx, { notice: { kind: 'bad', text: `You have no token ${made}.` } }, 404)
      }
      const secret = takeNewToken(c, ctx, made)
      const extra =
        secret === undefined
          ? {
              notice: {
                kind: 'good' as const,
                text: `The token "${token.name}" is made. Its secret was shown once and cannot be shown again; if you did not copy it, revoke this token and make another.`,
              },
            }
          : { made: { token: secret, name: token.name, expiresAt: token.expiresAt } }
      return show(c, ctx, extra, 200, tokens)
    }),
  )

  app.post(
    `${PATH}/password`,
    page(async (c, ctx) => {
      const form = Object.fromEntries(await formEntries(c))
      const current = form.currentPassword ?? ''
      const next = form.newPassword ?? ''
      const revokeTokens = asksToRevoke(form)
      if (next !== (form.confirmPassword ?? '')) {
        return show(
          c,
          ctx,
          {
            passwordErrors: { confirmPassword: 'the two new passwords differ; type it again' },
            revokeTokens,
            notice: { kind: 'bad', text: 'Your password was not changed.' },
          },
          400,
        )
      }
      const { result: res, setCookie } = await ctx.asPosted(form._csrf ?? '').changePassword({
        currentPassword: current,
        newPassword: next,
        revokeTokens,
      })
      if (res.ok) {
        // The API ended this browser's session with the others and made it a new one: without
        // the new cookie the redirect would land on the sign-in page.
        if (setCookie) {
          c.header('Set-Cookie', setCookie, { append: true })
        }
        return redirectWith(c, PATH, true, changedText(res.data, revokeTokens))
      }
      return show(
        c,
        ctx,
        {
          passwordErrors: passwordErrors(res),
          revokeTokens,
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
        setCookie(
          c,
          NEW_TOKEN_COOKIE,
          c
            .get('services')
            .identity.box.seal(
              JSON.stringify({ id: res.data.id, token: res.data.token }),
              newTokenContext(ctx),
            ),
          {
            httpOnly: true,
            sameSite: 'Strict',
            secure: new URL(c.req.url).protocol === 'https:',
            path: PATH,
            maxAge: NEW_TOKEN_COOKIE_S,
          },
        )
        return c.redirect(`${PATH}?made=${encodeURIComponent(res.data.id)}`, 303)
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
