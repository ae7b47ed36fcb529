/**
 * @module Who is calling the admin API: a staff API token (`Authorization: Bearer ntk_…`, for
 * scripts) or a console session cookie (`nudge_session`, httpOnly, SameSite=Strict). A cookie
 * session must also send its CSRF token in `X-CSRF-Token` on every request that changes
 * something: SameSite already stops cross-site posts in current browsers, the token covers the
 * rest (older browsers, same-site subdomains).
 *
 * Every admin answer without a valid token or session is 401 (for a token: unknown, expired or
 * revoked, said which); a role too weak for the action is 403. Staff only ever see their own
 * site: every query takes `staff.siteId`, so another site's rule is simply not found (404).
 */
import type { Context } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { findSession, type Staff } from '../../drizzle/queries/staff'
import { type TokenCheck, verifyStaffToken } from '../../drizzle/queries/staff-tokens'
import type { StaffRole } from '../../drizzle/schema/offers'
import type { HonoEnv } from '../context'
import { ApiError } from '../errors'

export const SESSION_COOKIE = 'nudge_session'
export const CSRF_HEADER = 'x-csrf-token'

const RANK: Record<StaffRole, number> = { viewer: 0, editor: 1, admin: 2 }

/** What a role may do, in words for the 403. */
const NEEDS: Record<StaffRole, string> = {
  viewer: 'any staff role',
  editor: 'the editor or admin role',
  admin: 'the admin role',
}

const NEW_TOKEN = 'make a new one in the console (Account) or with `nudge staff token`'

/**
 * Why a bearer token was refused, in words. Only the holder of the token itself learns that it
 * expired or was revoked; an id or another site's token reveals nothing here.
 */
function tokenRefused(check: Exclude<TokenCheck, { ok: true }>): string {
  switch (check.reason) {
    case 'expired':
      return `This staff API token expired on ${check.at.toISOString()}; ${NEW_TOKEN} (it may live up to 365 days).`
    case 'revoked':
      return `This staff API token was revoked on ${check.at.toISOString()}; ${NEW_TOKEN} if you still need one.`
    default:
      return 'The Authorization header does not hold a valid staff API token (expected "Bearer ntk_…"; make one with `nudge staff token`).'
  }
}

/**
 * The signed-in staff member, at least `role`; throws 401/403.
 * @example const staff = await requireStaff(c, 'editor')
 */
export async function requireStaff(
  c: Context<HonoEnv>,
  role: StaffRole = 'viewer',
): Promise<Staff> {
  const { db } = c.get('services')
  const header = c.req.header('authorization')
  let staff: Staff | undefined
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    const check = match
      ? await verifyStaffToken(db, match[1] as string)
      : ({ ok: false, reason: 'unknown' } as const)
    if (!check.ok) {
      throw new ApiError('UNAUTHORIZED', tokenRefused(check))
    }
    staff = check.staff
  } else {
    const id = getCookie(c, SESSION_COOKIE)
    const session = id ? await findSession(db, id) : undefined
    if (!session) {
      throw new ApiError(
        'UNAUTHORIZED',
        'Sign in first (POST /v1/admin/login) or send a staff API token as "Authorization: Bearer …".',
      )
    }
    if (!['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) {
      if (c.req.header(CSRF_HEADER) !== session.csrfToken) {
        throw new ApiError(
          'FORBIDDEN',
          `A signed-in request that changes something must send the session's CSRF token in ${CSRF_HEADER} (from the login answer or GET /v1/admin/session).`,
        )
      }
    }
    staff = { id: session.id, siteId: session.siteId, email: session.email, role: session.role }
  }
  if (RANK[staff.role] < RANK[role]) {
    throw new ApiError('FORBIDDEN', `This needs ${NEEDS[role]}; ${staff.email} is a ${staff.role}.`)
  }
  return staff
}

/**
 * The raw id of the console session making this request; undefined for an API-token request
 * (which is authenticated by its token even when a cookie rides along).
 */
export function currentSessionId(c: Context<HonoEnv>): string | undefined {
  return c.req.header('authorization') === undefined ? getCookie(c, SESSION_COOKIE) : undefined
}

/**
 * Hands a console session to the browser: httpOnly (no script reads it), SameSite=Strict (no
 * cross-site request carries it), Secure on https, expiring with the session. Sign-in and a
 * password change (which replaces the session) both set it this way.
 * @example setSessionCookie(c, await createSession(db, staff.id, ttl))
 */
export function setSessionCookie(c: Context<HonoEnv>, session: { id: string; expiresAt: Date }) {
  setCookie(c, SESSION_COOKIE, session.id, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: new URL(c.req.url).protocol === 'https:',
    path: '/',
    expires: session.expiresAt,
  })
}
