/**
 * @module Staff sign-in for the console and the admin API: POST /v1/admin/login, POST
 * /v1/admin/logout, GET /v1/admin/session (API tokens: admin.tokens.ts; changing one's
 * password: admin.password.ts). Passwords are checked with scrypt (runtime/passwords.ts); a
 * wrong email and a wrong password get the same answer after the same work, so the API does not
 * tell who has an account. Failed sign-ins are limited per email and per client IP
 * (api/admin/login-limit.ts): 429 with Retry-After once either is used up, and 503 with
 * Retry-After while Redis, which keeps those counts, does not answer (the limit fails closed).
 */
import { randomBytes } from 'node:crypto'
import type { Hono } from 'hono'
import { deleteCookie, getCookie } from 'hono/cookie'
import { z } from 'zod'
import {
  createSessionFor,
  deleteSession,
  findSession,
  findStaffByEmail,
} from '../../drizzle/queries/staff'
import { hashPassword, MAX_PASSWORD_LENGTH, verifyPassword } from '../../runtime/passwords'
import { requireStaff, SESSION_COOKIE, setSessionCookie } from '../admin/auth'
import { signInSucceeded, takeSignInAttempt } from '../admin/login-limit'
import { parseWith } from '../admin/validate'
import { readJsonBody } from '../body'
import type { HonoEnv } from '../context'
import { ApiError } from '../errors'

const ADMIN_BODY_BYTES = 256 * 1024

let dummy: Promise<string> | undefined
/** A hash of nothing anyone knows, made once per process. */
function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'))
  return dummy
}

const login = z.object({
  email: z.string().min(3).max(254),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
  /** Only needed when the email has accounts on several sites. */
  siteId: z.string().max(128).optional(),
})

export function register(app: Hono<HonoEnv>): void {
  app.post('/v1/admin/login', async (c) => {
    const input = parseWith(login, await readJsonBody(c, ADMIN_BODY_BYTES))
    const { db, config } = c.get('services')
    // Before any scrypt work, for known and unknown emails alike (429 says nothing of accounts).
    const attempt = await takeSignInAttempt(c, input.email)
    const accounts = (await findStaffByEmail(db, input.email)).filter(
      (a) => input.siteId === undefined || a.siteId === input.siteId,
    )
    const checks = await Promise.all(
      accounts.map((a) => verifyPassword(input.password, a.passwordHash)),
    )
    if (accounts.length === 0) {
      // The same scrypt work as a real check, so the answer's timing does not tell whether an
      // account exists.
      await verifyPassword(input.password, await dummyHash())
    }
    const matching = accounts.filter((_, i) => checks[i])
    if (matching.length === 0) {
      throw new ApiError('UNAUTHORIZED', 'Email or password is wrong.')
    }
    await signInSucceeded(c, attempt)
    if (matching.length > 1) {
      throw new ApiError('CONFLICT', 'This email has accounts on several sites; send siteId too.', {
        extra: { sites: matching.map((a) => a.siteId) },
      })
    }
    const staff = matching[0] as (typeof matching)[number]
    const session = await createSessionFor(
      db,
      staff.id,
      staff.passwordHash,
      config.NUDGE_SESSION_TTL,
    )
    if (!session) {
      // The password changed while this sign-in was checking the old one.
      throw new ApiError('UNAUTHORIZED', 'Email or password is wrong.')
    }
    setSessionCookie(c, session)
    return c.json({
      staff: { id: staff.id, email: staff.email, role: staff.role, siteId: staff.siteId },
      csrfToken: session.csrfToken,
      expiresAt: session.expiresAt.toISOString(),
    })
  })

  app.post('/v1/admin/logout', async (c) => {
    await requireStaff(c)
    const id = getCookie(c, SESSION_COOKIE)
    if (id) {
      await deleteSession(c.get('services').db, id)
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/' })
    return c.body(null, 204)
  })

  app.get('/v1/admin/session', async (c) => {
    const staff = await requireStaff(c)
    const id = getCookie(c, SESSION_COOKIE)
    const session = id ? await findSession(c.get('services').db, id) : undefined
    return c.json({
      staff,
      ...(session && { csrfToken: session.csrfToken, expiresAt: session.expiresAt.toISOString() }),
    })
  })
}
