/**
 * @module Staff API tokens for scripts: POST /v1/admin/tokens makes one for the caller (shown
 * once; lives `expiresInDays`, 1–365, default 90 — there is no "never": a script's owner renews
 * it at most once a year), GET /v1/admin/tokens lists the caller's own (admins: `?all=true`, every
 * token of the site) with name, owner, created, last used, expires and state — never the token —
 * and DELETE /v1/admin/tokens/:id revokes one (the caller's own; admins: any of the site's).
 * Another site's token, or another member's for a non-admin, is simply not found (404). Making
 * and revoking are audited.
 */
import type { Hono } from 'hono'
import { z } from 'zod'
import { recordAudit } from '../../drizzle/queries/audit'
import {
  createStaffToken,
  listStaffTokens,
  revokeStaffToken,
  type StaffTokenView,
  TOKEN_DAYS,
  tokenIsLive,
} from '../../drizzle/queries/staff-tokens'
import { currentSessionId, requireStaff } from '../admin/auth'
import { parseWith } from '../admin/validate'
import { readJsonBody } from '../body'
import type { HonoEnv } from '../context'
import { ApiError } from '../errors'

const BODY_BYTES = 16 * 1024

const createInput = z.object({
  name: z
    .string({ error: 'give the token a name' })
    .trim()
    .min(1, 'give the token a name')
    .max(100, 'use at most 100 characters'),
  expiresInDays: z
    .number({
      error: `expected a whole number of days from ${TOKEN_DAYS.min} to ${TOKEN_DAYS.max}`,
    })
    .int(`expected a whole number of days from ${TOKEN_DAYS.min} to ${TOKEN_DAYS.max}`)
    .min(TOKEN_DAYS.min, `expected at least ${TOKEN_DAYS.min} day`)
    .max(
      TOKEN_DAYS.max,
      `expected at most ${TOKEN_DAYS.max} days (tokens do not live forever; make a new one when it ends)`,
    )
    .default(TOKEN_DAYS.default),
})

export type TokenState = 'active' | 'expired' | 'revoked'

/** One token as listed: never the token itself. */
export type TokenView = {
  id: string
  name: string
  staffId: string
  email: string
  createdAt: string
  lastUsedAt: string | null
  expiresAt: string
  revokedAt: string | null
  state: TokenState
}

export type TokenListResponse = {
  tokens: TokenView[]
  /** What POST accepts as `expiresInDays`. */
  expiresInDays: { default: number; min: number; max: number }
}
export type TokenCreateRequest = z.input<typeof createInput>
export type TokenCreateResponse = {
  id: string
  token: string
  name: string
  createdAt: string
  expiresAt: string
  note: string
}

function present(t: StaffTokenView, now: Date): TokenView {
  return {
    id: t.id,
    name: t.name,
    staffId: t.staffId,
    email: t.email,
    createdAt: t.createdAt.toISOString(),
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    expiresAt: t.expiresAt.toISOString(),
    revokedAt: t.revokedAt?.toISOString() ?? null,
    state: t.revokedAt ? 'revoked' : tokenIsLive(t, now) ? 'active' : 'expired',
  }
}

export function register(app: Hono<HonoEnv>): void {
  app.post('/v1/admin/tokens', async (c) => {
    const me = await requireStaff(c)
    // A token that could make tokens would outlive its own expiry and revocation: a leaked
    // 1-day token would mint a 365-day one. Tokens come from a signed-in person (or the CLI).
    if (currentSessionId(c) === undefined) {
      throw new ApiError(
        'FORBIDDEN',
        'A staff API token cannot make tokens. Sign in (console or POST /v1/admin/login) to make one, or use `nudge staff token`.',
      )
    }
    const input = parseWith(createInput, await readJsonBody(c, BODY_BYTES))
    const { db } = c.get('services')
    const made = await createStaffToken(db, {
      staffId: me.id,
      name: input.name,
      expiresInDays: input.expiresInDays,
    })
    await recordAudit(db, {
      siteId: me.siteId,
      actor: me.email,
      action: 'token.create',
      subject: `token:${made.id}`,
      detail: { name: made.name, expiresAt: made.expiresAt.toISOString() },
    })
    const body: TokenCreateResponse = {
      id: made.id,
      token: made.token,
      name: made.name,
      createdAt: made.createdAt.toISOString(),
      expiresAt: made.expiresAt.toISOString(),
      note: 'Shown once: store it now.',
    }
    return c.json(body, 201)
  })

  app.get('/v1/admin/tokens', async (c) => {
    const me = await requireStaff(c)
    const { all } = parseWith(
      z.object({
        all: z.enum(['true', 'false'], { error: 'expected true or false' }).default('false'),
      }),
      { all: c.req.query('all') },
    )
    if (all === 'true' && me.role !== 'admin') {
      throw new ApiError(
        'FORBIDDEN',
        `Listing every member's tokens needs the admin role; ${me.email} is a ${me.role} (leave out all=true for your own).`,
      )
    }
    const tokens = await listStaffTokens(c.get('services').db, {
      siteId: me.siteId,
      ...(all === 'true' ? {} : { staffId: me.id }),
    })
    const now = new Date()
    const body: TokenListResponse = {
      tokens: tokens.map((t) => present(t, now)),
      expiresInDays: TOKEN_DAYS,
    }
    return c.json(body)
  })

  app.delete('/v1/admin/tokens/:id', async (c) => {
    const me = await requireStaff(c)
    const id = c.req.param('id')
    const { db } = c.get('services')
    const done = await revokeStaffToken(db, {
      siteId: me.siteId,
      id,
      ...(me.role === 'admin' ? {} : { staffId: me.id }),
    })
    if (!done) {
      throw new ApiError(
        'NOT_FOUND',
        me.role === 'admin'
          ? `No token ${id} on your site.`
          : `You have no token ${id} (only admins revoke other people's tokens).`,
      )
    }
    if (done.revoked) {
      await recordAudit(db, {
        siteId: me.siteId,
        actor: me.email,
        action: 'token.revoke',
        subject: `token:${id}`,
        detail: { name: done.token.name, owner: done.token.email },
      })
    }
    return c.body(null, 204)
  })
}
