/**
 * @module Managing a site's staff from the console (admin role): list with roles, change a role,
 * remove an account (its sessions and API tokens go with it, by the foreign keys' cascade).
 * Creating accounts is createStaff (drizzle/queries/staff.ts). Every query takes the site id, so
 * an admin only ever touches their own site's accounts.
 */
import { and, asc, eq } from 'drizzle-orm'
import type { Db } from '../client'
import { type StaffRole, staff } from '../schema/offers'
import type { Staff } from './staff'

const columns = { id: staff.id, siteId: staff.siteId, email: staff.email, role: staff.role }

/** The site's accounts, by email. */
export async function listSiteStaff(db: Db, siteId: string): Promise<Staff[]> {
  return db.select(columns).from(staff).where(eq(staff.siteId, siteId)).orderBy(asc(staff.email))
}

/** Undefined when the site has no such account. */
export async function setStaffRole(
  db: Db,
  siteId: string,
  id: string,
  role: StaffRole,
): Promise<Staff | undefined> {
  const [row] = await db
    .update(staff)
    .set({ role })
    .where(and(eq(staff.id, id), eq(staff.siteId, siteId)))
    .returning(columns)
  return row
}

/** Undefined when the site has no such account. */
export async function removeStaff(db: Db, siteId: string, id: string): Promise<Staff | undefined> {
  const [row] = await db
    .delete(staff)
    .where(and(eq(staff.id, id), eq(staff.siteId, siteId)))
    .returning(columns)
  return row
}
