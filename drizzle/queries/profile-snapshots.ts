/** @module Writes of profile snapshots: one multi-row upsert per batch. */
import { sql } from 'drizzle-orm'
import type { Db } from '../client'
import { profileSnapshots } from '../schema'

export type ProfileSnapshot = typeof profileSnapshots.$inferInsert

/**
 * Upserts a batch (the newest snapshot of a profile wins).
 * @example await upsertProfileSnapshots(db, [{ profileKey, siteId, data, takenAt: new Date() }])
 */
export async function upsertProfileSnapshots(db: Db, rows: ProfileSnapshot[]): Promise<void> {
  if (rows.length === 0) {
    return
  }
  await db
    .insert(profileSnapshots)
    .values(rows)
    .onConflictDoUpdate({
      target: profileSnapshots.profileKey,
      set: {
        data: sql`excluded.data`,
        takenAt: sql`excluded.taken_at`,
        siteId: sql`excluded.site_id`,
      },
    })
}

/** The stored snapshot of one profile, if any. */
export async function findProfileSnapshot(db: Db, profileKey: string) {
  const rows = await db
    .select()
    .from(profileSnapshots)
    .where(sql`${profileSnapshots.profileKey} = ${profileKey}`)
  return rows[0]
}
