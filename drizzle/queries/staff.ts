/**
 * @module Staff accounts, their passwords and console sessions (API tokens: staff-tokens.ts;
 * a password change may revoke them all here, in its own transaction).
 * Session ids are stored as SHA-256 hashes: a leaked table does not sign anyone in.
 */
import { createHash } from 'node:crypto'
import { and, eq, gt, isNull, lte } from 'drizzle-orm'
import { newId, randomKey } from '../../runtime/ids'
import type { Db } from '../client'
import { type StaffRole, staff, staffSessions, staffTokens } from '../schema/offers'

export type Staff = { id: string; siteId: string; email: string; role: StaffRole }

const staffColumns = { id: staff.id, siteId: staff.siteId, email: staff.email, role: staff.role }

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** Throws on a duplicate email within the site (unique index). */
export async function createStaff(
  db: Db,
  input: { siteId: string; email: string; passwordHash: string; role: StaffRole },
): Promise<Staff> {
  const [row] = await db
    .insert(staff)
    .values({ id: newId('staff'), ...input, email: input.email.toLowerCase() })
    .returning(staffColumns)
  if (!row) {
    throw new Error('insert into staff returned no row')
  }
  return row
}

/** Accounts with this email (one per site), with their password hashes, for sign-in. */
export async function findStaffByEmail(db: Db, email: string) {
  return db
    .select({ ...staffColumns, passwordHash: staff.passwordHash })
    .from(staff)
    .where(eq(staff.email, email.toLowerCase()))
}

export async function listStaff(db: Db, siteId: string): Promise<Staff[]> {
  return db.select(staffColumns).from(staff).where(eq(staff.siteId, siteId))
}

/** Starts a session; returns the raw id (for the cookie) and its CSRF token. */
export async function createSession(
  db: Db,
  staffId: string,
  ttlMs: number,
): Promise<{ id: string; csrfToken: string; expiresAt: Date }> {
  const id = randomKey('ses', 32)
  const csrfToken = randomKey('csrf', 24)
  const expiresAt = new Date(Date.now() + ttlMs)
  await db.delete(staffSessions).where(lte(staffSessions.expiresAt, new Date()))
  await db.insert(staffSessions).values({ idHash: sha256(id), staffId, csrfToken, expiresAt })
  return { id, csrfToken, expiresAt }
}

/**
 * A sign-in's session, made only if the password it checked is still the member's: undefined
 * when it changed meanwhile. The row lock orders it against a password change (which ends the
 * account's sessions after updating the hash), so a sign-in with the old password can never leave a
 * session behind the change.
 * @example const session = await createSessionFor(db, staff.id, staff.passwordHash, ttl)
 */
export async function createSessionFor(
  db: Db,
  staffId: string,
  checkedHash: string,
  ttlMs: number,
): Promise<{ id: string; csrfToken: string; expiresAt: Date } | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select({ passwordHash: staff.passwordHash })
      .from(staff)
      .where(eq(staff.id, staffId))
      .for('update')
    if (row?.passwordHash !== checkedHash) {
      return undefined
    }
    return createSession(tx as unknown as Db, staffId, ttlMs)
  })
}

/** The staff member of a live session, with its CSRF token; undefined when unknown or expired. */
export async function findSession(
  db: Db,
  id: string,
): Promise<(Staff & { csrfToken: string; expiresAt: Date }) | undefined> {
  const [row] = await db
    .select({
      ...staffColumns,
      csrfToken: staffSessions.csrfToken,
      expiresAt: staffSessions.expiresAt,
    })
    .from(staffSessions)
    .innerJoin(staff, eq(staff.id, staffSessions.staffId))
    .where(and(eq(staffSessions.idHash, sha256(id)), gt(staffSessions.expiresAt, new Date())))
  return row
}

export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.delete(staffSessions).where(eq(staffSessions.idHash, sha256(id)))
}

/** The stored password hash of one account; undefined when there is no such account. */
export async function findPasswordHash(db: Db, staffId: string): Promise<string | undefined> {
  const [row] = await db
    .select({ passwordHash: staff.passwordHash })
    .from(staff)
    .where(eq(staff.id, staffId))
  return row?.passwordHash
}

/** What a password change did to the account's ways in (setPassword). */
export type PasswordChanged = {
  /** Console sessions ended besides the one that made the change. */
  otherSessionsEnded: number
  /**
   * The fresh session replacing the one that made the change; undefined for a change made with
   * an API token, or when that session had already ended.
   */
  session?: { id: string; csrfToken: string; expiresAt: Date }
  /** Ids of the live API tokens revoked (empty unless `revokeTokens`). */
  revokedTokenIds: string[]
}

/**
 * Sets an account's password hash and, in the same transaction, ends every console session of
 * the account, the one making the change included: that one is replaced by a fresh session (new
 * id, new CSRF token, `ttlMs` from now), so a stolen copy of its cookie stops working with the
 * change while the person who made it stays signed in. With `revokeTokens`, the account's live
 * API tokens are revoked too (a change after a suspected compromise); otherwise tokens stay, as
 * scripts' credentials are listed and revoked on their own.
 * @example const done = await setPassword(db, { staffId, passwordHash, currentSessionId, ttlMs, revokeTokens: true })
 */
export async function setPassword(
  db: Db,
  input: {
    staffId: string
    passwordHash: string
    /** The raw id of the session making the change; undefined for an API-token request. */
    currentSessionId: string | undefined
    ttlMs: number
    revokeTokens: boolean
    now?: Date
  },
): Promise<PasswordChanged> {
  const { staffId } = input
  return db.transaction(async (tx) => {
    await tx.update(staff).set({ passwordHash: input.passwordHash }).where(eq(staff.id, staffId))
    const now = input.now ?? new Date()
    const ended = await tx
      .delete(staffSessions)
      .where(eq(staffSessions.staffId, staffId))
      .returning({ idHash: staffSessions.idHash, expiresAt: staffSessions.expiresAt })
    const currentHash =
      input.currentSessionId === undefined ? undefined : sha256(input.currentSessionId)
    const hadCurrent = ended.some((row) => row.idHash === currentHash)
    const session = hadCurrent
      ? await createSession(tx as unknown as Db, staffId, input.ttlMs)
      : undefined
    // Only tokens that still work: expired and already revoked ones keep their state and dates
    // (staff-tokens.ts tells their holders which).
    const revoked = input.revokeTokens
      ? await tx
          .update(staffTokens)
          .set({ revokedAt: now })
          .where(
            and(
              eq(staffTokens.staffId, staffId),
              isNull(staffTokens.revokedAt),
              gt(staffTokens.expiresAt, now),
            ),
          )
          .returning({ id: staffTokens.id })
      : []
    return {
      // Expired sessions go too, but nobody was signed in there any more.
      otherSessionsEnded: ended.filter(
        (row) => row.idHash !== currentHash && row.expiresAt.getTime() > now.getTime(),
      ).length,
      ...(session && { session }),
      revokedTokenIds: revoked.map((row) => row.id),
    }
  })
}
