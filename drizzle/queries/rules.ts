/**
 * @module Offer rules in storage: create, change (a new immutable version each time), set
 * status, read, and the audit log every change writes in the same transaction. Specs arrive
 * already validated (api/admin validates with streams/rules.ts); this layer stores JSON.
 */
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm'
import { newId } from '../../runtime/ids'
import type { Db } from '../client'
import { auditLog, rules, ruleVersions } from '../schema/offers'
import { sites } from '../schema/sites'

export type RuleStatus = 'draft' | 'active' | 'paused' | 'archived'

export type StoredRule = {
  id: string
  siteId: string
  status: RuleStatus
  version: number
  spec: Record<string, unknown>
  createdAt: Date
  updatedAt: Date
  updatedBy: string
}

const ruleColumns = {
  id: rules.id,
  siteId: rules.siteId,
  status: rules.status,
  version: rules.currentVersion,
  spec: ruleVersions.spec,
  createdAt: rules.createdAt,
  updatedAt: rules.updatedAt,
  updatedBy: ruleVersions.createdBy,
}

function current() {
  return and(eq(ruleVersions.ruleId, rules.id), eq(ruleVersions.version, rules.currentVersion))
}

/** @example const rule = await createRule(db, { siteId, spec, status: 'draft', actor: 'stf_…' }) */
export async function createRule(
  db: Db,
  input: { siteId: string; spec: Record<string, unknown>; status: RuleStatus; actor: string },
): Promise<StoredRule> {
  const id = newId('rule')
  await db.transaction(async (tx) => {
    await tx
      .insert(rules)
      .values({ id, siteId: input.siteId, status: input.status, currentVersion: 1 })
    await tx
      .insert(ruleVersions)
      .values({ ruleId: id, version: 1, spec: input.spec, createdBy: input.actor })
    await tx.insert(auditLog).values({
      siteId: input.siteId,
      actor: input.actor,
      action: 'rule.create',
      subject: `rule:${id}`,
      detail: { version: 1, status: input.status, name: input.spec.name },
    })
  })
  return (await getRule(db, input.siteId, id)) as StoredRule
}

/**
 * Saves a changed spec as the next version. Undefined when the site has no such rule. Row-locked,
 * so two editors saving at once get versions n+1 and n+2, never two n+1.
 */
export async function updateRule(
  db: Db,
  input: { siteId: string; id: string; spec: Record<string, unknown>; actor: string },
): Promise<StoredRule | undefined> {
  const saved = await db.transaction(async (tx) => {
    const [row] = await tx
      .select({ version: rules.currentVersion })
      .from(rules)
      .where(and(eq(rules.id, input.id), eq(rules.siteId, input.siteId)))
      .for('update')
    if (!row) {
      return false
    }
    const version = row.version + 1
    await tx
      .insert(ruleVersions)
      .values({ ruleId: input.id, version, spec: input.spec, createdBy: input.actor })
    await tx
      .update(rules)
      .set({ currentVersion: version, updatedAt: sql`now()` })
      .where(eq(rules.id, input.id))
    await tx.insert(auditLog).values({
      siteId: input.siteId,
      actor: input.actor,
      action: 'rule.update',
      subject: `rule:${input.id}`,
      detail: { version, name: input.spec.name },
    })
    return true
  })
  return saved ? getRule(db, input.siteId, input.id) : undefined
}

/** Activate, pause or archive. Undefined when the site has no such rule. */
export async function setRuleStatus(
  db: Db,
  input: { siteId: string; id: string; status: RuleStatus; actor: string },
): Promise<StoredRule | undefined> {
  const changed = await db.transaction(async (tx) => {
    const [before] = await tx
      .select({ status: rules.status })
      .from(rules)
      .where(and(eq(rules.id, input.id), eq(rules.siteId, input.siteId)))
      .for('update')
    if (!before) {
      return false
    }
    await tx
      .update(rules)
      .set({ status: input.status, updatedAt: sql`now()` })
      .where(eq(rules.id, input.id))
    await tx.insert(auditLog).values({
      siteId: input.siteId,
      actor: input.actor,
      action: `rule.${input.status === 'active' ? 'activate' : input.status === 'paused' ? 'pause' : input.status === 'archived' ? 'archive' : 'draft'}`,
      subject: `rule:${input.id}`,
      detail: { from: before.status, to: input.status },
    })
    return true
  })
  return changed ? getRule(db, input.siteId, input.id) : undefined
}

export async function getRule(db: Db, siteId: string, id: string): Promise<StoredRule | undefined> {
  const [row] = await db
    .select(ruleColumns)
    .from(rules)
    .innerJoin(ruleVersions, current())
    .where(and(eq(rules.id, id), eq(rules.siteId, siteId)))
  return row
}

/** A site's rules, newest first, optionally of some statuses only. */
export async function listRules(
  db: Db,
  siteId: string,
  statuses?: RuleStatus[],
): Promise<StoredRule[]> {
  return db
    .select(ruleColumns)
    .from(rules)
    .innerJoin(ruleVersions, current())
    .where(
      and(eq(rules.siteId, siteId), statuses?.length ? inArray(rules.status, statuses) : undefined),
    )
    .orderBy(desc(rules.createdAt), desc(rules.id))
}

/** Every version of a rule, oldest first. Empty when the site has no such rule. */
export async function listRuleVersions(db: Db, siteId: string, id: string) {
  return db
    .select({
      version: ruleVersions.version,
      spec: ruleVersions.spec,
      createdBy: ruleVersions.createdBy,
      createdAt: ruleVersions.createdAt,
    })
    .from(ruleVersions)
    .innerJoin(rules, eq(rules.id, ruleVersions.ruleId))
    .where(and(eq(rules.id, id), eq(rules.siteId, siteId)))
    .orderBy(asc(ruleVersions.version))
}

/** A site's audit log, newest first. */
export async function listAudit(db: Db, siteId: string, limit = 100) {
  return db
    .select({
      id: auditLog.id,
      actor: auditLog.actor,
      action: auditLog.action,
      subject: auditLog.subject,
      detail: auditLog.detail,
      at: auditLog.at,
    })
    .from(auditLog)
    .where(eq(auditLog.siteId, siteId))
    .orderBy(desc(auditLog.id))
    .limit(limit)
}

/**
 * Every active rule's current version on every site, with the site's time zone: what the
 * workers' rule cache compiles.
 */
export async function listActiveRuleVersions(db: Db) {
  return db
    .select({
      id: rules.id,
      siteId: rules.siteId,
      status: rules.status,
      version: rules.currentVersion,
      spec: ruleVersions.spec,
      timezone: sites.timezone,
      halfLifeHours: sites.halfLifeHours,
    })
    .from(rules)
    .innerJoin(ruleVersions, current())
    .innerJoin(sites, eq(sites.id, rules.siteId))
    .where(eq(rules.status, 'active'))
}

/** The site's IANA time zone (rule conditions on time and "today"); UTC when unknown. */
export async function siteTimezone(db: Db, siteId: string): Promise<string> {
  const [row] = await db
    .select({ timezone: sites.timezone })
    .from(sites)
    .where(eq(sites.id, siteId))
  return row?.timezone ?? 'UTC'
}
