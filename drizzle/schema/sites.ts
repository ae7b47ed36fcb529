/** @module The `sites` table: one storefront, its public write key and the hash of its secret. */
import { sql } from 'drizzle-orm'
import { integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core'

/**
 * No explicit pg schema: the table lives wherever `search_path` points, so one database can hold
 * several isolated copies (one per test, or per operator-chosen schema).
 *
 * `secretHash` is the hex SHA-256 of the site secret; the secret itself is never stored, so it
 * can be shown only once, when it is made. `allowedOrigins` holds patterns normalised by
 * `parseOriginPattern` (see drizzle/origins.ts). `eventWeights` is null unless the site overrides
 * some of the default engagement weights.
 */
export const sites = pgTable('sites', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  writeKey: text('write_key').notNull().unique(),
  secretHash: text('secret_hash').notNull().unique(),
  allowedOrigins: text('allowed_origins').array().notNull().default(sql`'{}'`),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  /** Engagement weight per event type overriding the defaults (workers/domain/profile-delta.ts). */
  eventWeights: jsonb('event_weights').$type<Record<string, number>>(),
  /**
   * The secret sealed with the install's key (AES-256-GCM), so the api can check a shopper's
   * `userHash = HMAC(secret, userId)`. Null for sites made before sealing existed: rotating
   * the secret fills it.
   */
  secretSealed: text('secret_sealed'),
  /** IANA time zone of the store: rule conditions on time of day and "today" use it. */
  timezone: text('timezone').notNull().default('UTC'),
  /**
   * Half-life of the engagement score and category interests, in hours; null means the default
   * (streams/profile.ts PROFILE_HALF_LIFE_MS, a week). Writers and readers must use the same.
   */
  halfLifeHours: integer('half_life_hours'),
})
