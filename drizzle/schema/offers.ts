/**
 * @module Offer rules and what they earn: rules with immutable versions, staff and their
 * sessions and API tokens, the audit log of changes, and offer outcomes.
 *
 * A rule row holds what changes without a new version (status) and points at its current
 * version; every edit inserts a `rule_versions` row and never updates one, so an offer can
 * always name the exact version that produced it. The spec is stored as JSON validated by
 * streams/rules.ts `ruleInput` on the way in (drizzle/ may not import streams/, hence unknown).
 */
import { sql } from 'drizzle-orm'
import {
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core'
import { sites } from './sites'

export const STAFF_ROLES = ['viewer', 'editor', 'admin'] as const
export type StaffRole = (typeof STAFF_ROLES)[number]

/** Staff belong to one site; an email can hold one account per site. */
export const staff = pgTable(
  'staff',
  {
    id: text('id').primaryKey(),
    siteId: text('site_id')
      .notNull()
      .references(() => sites.id),
    email: text('email').notNull(),
    /** `scrypt$<salt hex>$<hash hex>` (api/admin/passwords.ts). */
    passwordHash: text('password_hash').notNull(),
    role: text('role').$type<StaffRole>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('staff_site_email_idx').on(t.siteId, t.email)],
)

/** Console sessions; the cookie holds the raw id, the table its SHA-256. */
export const staffSessions = pgTable('staff_sessions', {
  idHash: text('id_hash').primaryKey(),
  staffId: text('staff_id')
    .notNull()
    .references(() => staff.id, { onDelete: 'cascade' }),
  csrfToken: text('csrf_token').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
})

/**
 * API tokens for scripts (`Authorization: Bearer`); the table holds their SHA-256, never the
 * token. `id` (`tok_…`) names a token in lists and revocation without revealing it. A token
 * works until `expiresAt` and until revoked (`revokedAt`; the row stays, so a revoked token is
 * told apart from an unknown one). `lastUsedAt` is written at most once a minute per token.
 */
export const staffTokens = pgTable(
  'staff_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    id: text('id').notNull(),
    staffId: text('staff_id')
      .notNull()
      .references(() => staff.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('staff_tokens_id_idx').on(t.id),
    index('staff_tokens_staff_idx').on(t.staffId),
  ],
)

export const rules = pgTable(
  'rules',
  {
    id: text('id').primaryKey(),
    siteId: text('site_id')
      .notNull()
      .references(() => sites.id),
    status: text('status').$type<'draft' | 'active' | 'paused' | 'archived'>().notNull(),
    currentVersion: integer('current_version').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('rules_site_status_idx').on(t.siteId, t.status)],
)

export const ruleVersions = pgTable(
  'rule_versions',
  {
    ruleId: text('rule_id')
      .notNull()
      .references(() => rules.id),
    version: integer('version').notNull(),
    spec: jsonb('spec').$type<Record<string, unknown>>().notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.ruleId, t.version] })],
)

/** Who changed what, when. `subject` is e.g. `rule:rul_…`; `detail` what changed. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    siteId: text('site_id').notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    subject: text('subject').notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default(sql`'{}'`),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('audit_log_site_at_idx').on(t.siteId, t.at)],
)

export const OUTCOMES = [
  'delivered',
  'holdout',
  'shown',
  'clicked',
  'dismissed',
  'converted',
] as const
export type OutcomeKind = (typeof OUTCOMES)[number]

/**
 * One row per offer and outcome (the primary key makes a replayed outcome a no-op). A holdout
 * decision gets an offer id like any other, so its conversions can be counted for lift.
 */
export const offerOutcomes = pgTable(
  'offer_outcomes',
  {
    offerId: text('offer_id').notNull(),
    kind: text('kind').$type<OutcomeKind>().notNull(),
    siteId: text('site_id').notNull(),
    ruleId: text('rule_id').notNull(),
    ruleVersion: integer('rule_version').notNull(),
    profileKey: text('profile_key').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.offerId, t.kind] }),
    index('offer_outcomes_rule_idx').on(t.siteId, t.ruleId, t.kind, t.at),
  ],
)
