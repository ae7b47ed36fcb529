/**
 * @module Offer outcomes: batched, idempotent inserts (a replayed outcome is a no-op thanks to
 * the (offer, kind) key) and the per-rule figures the admin stats and the console show.
 */
import { sql } from 'drizzle-orm'
import type { Db } from '../client'
import { type OutcomeKind, offerOutcomes } from '../schema/offers'

export type OutcomeRow = {
  offerId: string
  kind: OutcomeKind
  siteId: string
  ruleId: string
  ruleVersion: number
  profileKey: string
  at: Date
}

/** Rows per INSERT: keeps one statement well under PostgreSQL's 65,535 parameters. */
const BATCH = 1000

/** @example await insertOutcomes(db, rows) */
export async function insertOutcomes(db: Db, rows: readonly OutcomeRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH) {
    await db
      .insert(offerOutcomes)
      .values(rows.slice(i, i + BATCH))
      .onConflictDoNothing()
  }
}

export type RuleFigures = {
  ruleId: string
  delivered: number
  holdout: number
  shown: number
  clicked: number
  dismissed: number
  converted: number
  /** Conversions of holdout decisions (shoppers who qualified but were shown nothing). */
  holdoutConverted: number
}

/** Outcome counts per rule of a site since `since` (all time when absent). */
export async function ruleFigures(db: Db, siteId: string, since?: Date): Promise<RuleFigures[]> {
  // A conversion belongs to the holdout when its offer id has a holdout row. Raw SQL for the
  // correlated subquery: both sides are offer_outcomes, so the aliases must be explicit.
  const { rows } = await db.execute<{
    rule_id: string
    kind: OutcomeKind
    n: number
    holdout_converted: number
  }>(sql`
    select o.rule_id, o.kind, count(*)::int as n,
      (count(*) filter (where o.kind = 'converted' and exists (
        select 1 from offer_outcomes h where h.offer_id = o.offer_id and h.kind = 'holdout'
      )))::int as holdout_converted
    from offer_outcomes o
    where o.site_id = ${siteId} ${since ? sql`and o.at >= ${since.toISOString()}` : sql``}
    group by o.rule_id, o.kind`)
  const byRule = new Map<string, RuleFigures>()
  for (const row of rows) {
    const figures = byRule.get(row.rule_id) ?? {
      ruleId: row.rule_id,
      delivered: 0,
      holdout: 0,
      shown: 0,
      clicked: 0,
      dismissed: 0,
      converted: 0,
      holdoutConverted: 0,
    }
    if (row.kind === 'converted') {
      figures.converted += row.n - row.holdout_converted
      figures.holdoutConverted += row.holdout_converted
    } else {
      figures[row.kind] += row.n
    }
    byRule.set(row.rule_id, figures)
  }
  return [...byRule.values()]
}
