/**
 * @module `profile_snapshots`: the latest periodic copy of each live shopper profile, for
 * reporting and for rebuilding when Redis is lost. One row per profile, upserted in batches.
 * `data` holds the profile hash as stored in Redis (decayed values with their reference times).
 */
import { index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core'

export const profileSnapshots = pgTable(
  'profile_snapshots',
  {
    profileKey: text('profile_key').primaryKey(),
    siteId: text('site_id').notNull(),
    data: jsonb('data')
      .$type<{ profile: Record<string, string>; interests: Record<string, string> }>()
      .notNull(),
    takenAt: timestamp('taken_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('profile_snapshots_site_idx').on(t.siteId)],
)
