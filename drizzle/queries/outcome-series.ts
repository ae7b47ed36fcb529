/**
 * @module Outcomes of one rule per day (UTC), for the console's results chart and CSV export.
 * Same counting as ruleFigures (drizzle/queries/outcomes.ts): a conversion whose offer has a
 * holdout row belongs to the holdout. Days without any outcome are filled with zeros, so a
 * chart's x axis is the calendar, not the days that happened to have data.
 */
import { sql } from 'drizzle-orm'
import type { Db } from '../client'
import type { OutcomeKind } from '../schema/offers'

export type DailyFigures = {
  /** UTC day, YYYY-MM-DD. */
  day: string
  delivered: number
  holdout: number
  shown: number
  clicked: number
  dismissed: number
  converted: number
  holdoutConverted: number
}

const DAY_MS = 86_400_000

function zero(day: string): DailyFigures {
  return {
    day,
    delivered: 0,
    holdout: 0,
    shown: 0,
    clicked: 0,
    dismissed: 0,
    converted: 0,
    holdoutConverted: 0,
  }
}

function calendar(days: number, now: number): { first: Date; byDay: Map<string, DailyFigures> } {
  const first = new Date(Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS)
  const byDay = new Map<string, DailyFigures>()
  for (let i = 0; i < days; i++) {
    const day = new Date(first.getTime() + i * DAY_MS).toISOString().slice(0, 10)
    byDay.set(day, zero(day))
  }
  return { first, byDay }
}

/**
 * The last `days` UTC days (today included) of outcomes per rule of the site — only rules with
 * at least one outcome in that time — each oldest first. `ruleId` narrows it to one rule.
 * @example (await dailySiteFigures(db, siteId, 14)).get('rul_…') // [{ day: '2026-11-14', … }, …]
 */
export async function dailySiteFigures(
  db: Db,
  siteId: string,
  days: number,
  opts: { ruleId?: string; now?: number } = {},
): Promise<Map<string, DailyFigures[]>> {
  const { first } = calendar(days, opts.now ?? Date.now())
  const { rows } = await db.execute<{
    rule_id: string
    day: string
    kind: OutcomeKind
    n: number
    holdout_converted: number
  }>(sql`
    select o.rule_id, to_char(o.at at time zone 'UTC', 'YYYY-MM-DD') as day, o.kind,
      count(*)::int as n,
      (count(*) filter (where o.kind = 'converted' and exists (
        select 1 from offer_outcomes h where h.offer_id = o.offer_id and h.kind = 'holdout'
      )))::int as holdout_converted
    from offer_outcomes o
    where o.site_id = ${siteId} and o.at >= ${first.toISOString()}
      ${opts.ruleId === undefined ? sql`` : sql`and o.rule_id = ${opts.ruleId}`}
    group by 1, 2, 3`)
  const byRule = new Map<string, Map<string, DailyFigures>>()
  for (const row of rows) {
    let byDay = byRule.get(row.rule_id)
    if (!byDay) {
      byDay = calendar(days, opts.now ?? Date.now()).byDay
      byRule.set(row.rule_id, byDay)
    }
    const figures = byDay.get(row.day)
    if (!figures) {
      continue
    }
    if (row.kind === 'converted') {
      figures.converted += row.n - row.holdout_converted
      figures.holdoutConverted += row.holdout_converted
    } else {
      figures[row.kind] += row.n
    }
  }
  return new Map([...byRule].map(([rule, byDay]) => [rule, [...byDay.values()]]))
}

/**
 * The last `days` UTC days (today included) of one rule's outcomes, oldest first; zeros for a
 * rule without outcomes.
 * @example await dailyRuleFigures(db, siteId, 'rul_…', 30) // [{ day: '2026-10-29', delivered: 0, … }, …]
 */
export async function dailyRuleFigures(
  db: Db,
  siteId: string,
  ruleId: string,
  days: number,
  now = Date.now(),
): Promise<DailyFigures[]> {
  const series = await dailySiteFigures(db, siteId, days, { ruleId, now })
  return series.get(ruleId) ?? [...calendar(days, now).byDay.values()]
}
