/**
 * @module One audit entry for a change that is not a rule (staff, site settings, job retries);
 * rule changes write theirs inside their own transaction (drizzle/queries/rules.ts). The entry
 * is written after the change: a crash in between loses the entry, never the change.
 */
import type { Db } from '../client'
import { auditLog } from '../schema/offers'

/**
 * @example await recordAudit(db, { siteId, actor: 'me@shop.example', action: 'staff.invite', subject: 'staff:stf_…' })
 */
export async function recordAudit(
  db: Db,
  entry: {
    siteId: string
    actor: string
    action: string
    subject: string
    detail?: Record<string, unknown>
  },
): Promise<void> {
  await db.insert(auditLog).values({ ...entry, detail: entry.detail ?? {} })
}
