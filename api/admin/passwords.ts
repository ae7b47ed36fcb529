/**
 * @module What a new staff password must be, with the reason in words when refused (POST
 * /v1/admin/password). The lengths live in runtime/passwords.ts, shared with `nudge staff
 * create` and the console's hints. Invited accounts get a random one of 16 characters
 * (admin.staff.ts), which passes.
 */
import { z } from 'zod'
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../runtime/passwords'

export const newPassword = z
  .string({ error: 'enter a new password' })
  .min(MIN_PASSWORD_LENGTH, `use at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH, `use at most ${MAX_PASSWORD_LENGTH} characters`)
