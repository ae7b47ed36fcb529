/**
 * @module Who is calling the admin API: a staff API token (`Authorization: Bearer ntk_…`, for
 * scripts) or a console session cookie (`nudge_session`, httpOnly, SameSite=Strict). A cookie
 * session must also send its CSRF token in `X-CSRF-Token` on every request that changes
 * something: SameSite already stops cross-site posts in current browsers, the token covers the
 * rest (older browsers, same-site subdomains).
 *
 * Every admin answer without a valid token or session is 401; a role too weak for the action
 * is 403. Staff only ever see their own site: every query takes `staff.siteId`, so another
 * site's rule is simply not found (404).
 */
import type { Context } from 'hono'
import { getCookie } from 'hono/cookie'
import { findSession, findStaffByToken, type Staff } from '../../drizzle/queries/staff'
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
    staff = match ? await findStaffByToken(db, match[1] as string) : undefined
    if (!staff) {
      throw new ApiError(
        'UNAUTHORIZED',
        'The Authorization header does not hold a valid staff API token (expected "Bearer ntk_…"; make one with `nudge staff token`).',
      )
    }
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
