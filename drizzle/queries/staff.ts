/**
 * @module Staff accounts, console sessions and API tokens. Session ids and tokens are stored
 * as SHA-256 hashes: a leaked table does not sign anyone in.
 */
import { createHash } from 'node:crypto'
import { and, eq, gt, lte } from 'drizzle-orm'
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

/** Makes an API token for a staff member; the raw token is returned once. */
export async function createStaffToken(db: Db, staffId: string, name: string): Promise<string> {
  const token = randomKey('ntk', 32)
  await db.insert(staffTokens).values({ tokenHash: sha256(token), staffId, name })
  return token
}

export async function findStaffByToken(db: Db, token: string): Promise<Staff | undefined> {
  const [row] = await db
    .select(staffColumns)
    .from(staffTokens)
    .innerJoin(staff, eq(staff.id, staffTokens.staffId))
    .where(eq(staffTokens.tokenHash, sha256(token)))
  return row
}
