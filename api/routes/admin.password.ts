/**
 * @module POST /v1/admin/password `{currentPassword, newPassword, revokeTokens?}`: a staff member
 * changes their own password. A refusal is 400 with one issue per field, in words
 * (`currentPassword`: not your current password; `newPassword`: too short, or the same as now;
 * `revokeTokens`: not true or false). On success every console session of the account ends,
 * the one making the change included: a change made from a session answers with a fresh session
 * cookie and its CSRF token, so whoever holds a copy of the old cookie is out while the person
 * who changed the password stays signed in. API tokens stay unless `revokeTokens: true` asks to
 * revoke them all (the answer says how many were): scripts keep working after a routine change,
 * and a change after a suspected compromise cuts everything. The change is audited. A wrong
 * current password counts as a failed sign-in of that email (api/admin/login-limit.ts), so a
 * stolen session cannot be used to guess the password at leisure.
 */
import type { Hono } from 'hono'
import { z } from 'zod'
import { recordAudit } from '../../drizzle/queries/audit'
import { findPasswordHash, setPassword } from '../../drizzle/queries/staff'
import { hashPassword, MAX_PASSWORD_LENGTH, verifyPassword } from '../../runtime/passwords'
import { currentSessionId, requireStaff, setSessionCookie } from '../admin/auth'
import { signInSucceeded, takeSignInAttempt } from '../admin/login-limit'
import { newPassword } from '../admin/passwords'
import { parseWith } from '../admin/validate'
import { readJsonBody } from '../body'
import type { HonoEnv } from '../context'
import { ApiError } from '../errors'

const BODY_BYTES = 16 * 1024

const input = z.object({
  currentPassword: z
    .string({ error: 'enter your current password' })
    .min(1, 'enter your current password')
    .max(MAX_PASSWORD_LENGTH, 'this is not your current password')
    .describe('The password as it is now; a wrong one counts as a failed sign-in.'),
  newPassword: newPassword.describe('The new password (at least 10 characters).'),
  revokeTokens: z
    .boolean({ error: 'expected true or false' })
    .default(false)
    .describe(
      'true: also revoke every API token of yours that still works (after a suspected compromise). Default false: scripts keep their tokens.',
    ),
})

export type PasswordChangeRequest = z.input<typeof input>
export type PasswordChangeResponse = {
  changed: true
  /** Console sessions of the account ended besides the one that made the change. */
  otherSessionsEnded: number
  /** API tokens revoked: how many were live, when `revokeTokens` asked; else 0. */
  tokensRevoked: number
  /**
   * The replacing session's CSRF token and expiry (its id is in the Set-Cookie), when the change
   * was made from a console session; absent for a change made with an API token, which never
   * yields a session (a token cannot become a session that makes tokens).
   */
  csrfToken?: string
  expiresAt?: string
}

/** The same 400 parseWith gives, for a check zod cannot make. */
function fieldError(field: string, reason: string): ApiError {
  return new ApiError('BAD_REQUEST', `Please fix this field: ${field}: ${reason}.`, {
    issues: [{ field, reason }],
  })
}

export function register(app: Hono<HonoEnv>): void {
  app.post('/v1/admin/password', async (c) => {
    const me = await requireStaff(c)
    const body = parseWith(input, await readJsonBody(c, BODY_BYTES))
    const { db, config } = c.get('services')
    const attempt = await takeSignInAttempt(c, me.email)
    const stored = await findPasswordHash(db, me.id)
    if (!stored || !(await verifyPassword(body.currentPassword, stored))) {
      throw fieldError('currentPassword', 'this is not your current password')
    }
    await signInSucceeded(c, attempt)
    if (body.newPassword === body.currentPassword) {
      throw fieldError('newPassword', 'choose a password different from the current one')
    }
    const done = await setPassword(db, {
      staffId: me.id,
      passwordHash: await hashPassword(body.newPassword),
      currentSessionId: currentSessionId(c),
      ttlMs: config.NUDGE_SESSION_TTL,
      revokeTokens: body.revokeTokens,
    })
    if (done.session) {
      setSessionCookie(c, done.session)
    }
    await recordAudit(db, {
      siteId: me.siteId,
      actor: me.email,
      action: 'staff.password',
      subject: `staff:${me.id}`,
      detail: {
        otherSessionsEnded: done.otherSessionsEnded,
        tokensRevoked: done.revokedTokenIds.length,
        revokedTokenIds: done.revokedTokenIds,
      },
    })
    const answer: PasswordChangeResponse = {
      changed: true,
      otherSessionsEnded: done.otherSessionsEnded,
      tokensRevoked: done.revokedTokenIds.length,
      ...(done.session && {
        csrfToken: done.session.csrfToken,
        expiresAt: done.session.expiresAt.toISOString(),
      }),
    }
    return c.json(answer)
  })
}
