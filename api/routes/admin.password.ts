/**
 * @module POST /v1/admin/password `{currentPassword, newPassword}`: a staff member changes their
 * own password. A refusal is 400 with one issue per field, in words (`currentPassword`: not your
 * current password; `newPassword`: too short, or the same as now). On success every other
 * console session of the account ends — the one making the change stays signed in — and the
 * change is audited; API tokens stay (they are revoked on their own, admin.tokens.ts). A wrong
 * current password counts as a failed sign-in of that email (api/admin/login-limit.ts), so a
 * stolen session cannot be used to guess the password at leisure.
 */
import type { Hono } from 'hono'
import { z } from 'zod'
import { recordAudit } from '../../drizzle/queries/audit'
import { findPasswordHash, setPassword } from '../../drizzle/queries/staff'
import { hashPassword, MAX_PASSWORD_LENGTH, verifyPassword } from '../../runtime/passwords'
import { currentSessionId, requireStaff } from '../admin/auth'
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
    .max(MAX_PASSWORD_LENGTH, 'this is not your current password'),
  newPassword,
})

export type PasswordChangeRequest = z.input<typeof input>
export type PasswordChangeResponse = { changed: true; otherSessionsEnded: number }

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
    const { db } = c.get('services')
    const attempt = await takeSignInAttempt(c, me.email)
    const stored = await findPasswordHash(db, me.id)
    if (!stored || !(await verifyPassword(body.currentPassword, stored))) {
      throw fieldError('currentPassword', 'this is not your current password')
    }
    await signInSucceeded(c, attempt)
    if (body.newPassword === body.currentPassword) {
      throw fieldError('newPassword', 'choose a password different from the current one')
    }
    const ended = await setPassword(
      db,
      me.id,
      await hashPassword(body.newPassword),
      currentSessionId(c),
    )
    await recordAudit(db, {
      siteId: me.siteId,
      actor: me.email,
      action: 'staff.password',
      subject: `staff:${me.id}`,
      detail: { otherSessionsEnded: ended },
    })
    const answer: PasswordChangeResponse = { changed: true, otherSessionsEnded: ended }
    return c.json(answer)
  })
}
