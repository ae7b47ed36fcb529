/**
 * @module GET /v1/admin/stats/:ruleId/daily?days=30: one rule's outcomes per UTC day (delivered,
 * holdout, shown, clicked, dismissed, converted, holdout conversions), oldest first, days
 * without data as zeros; GET /v1/admin/stats/daily?days=14 the same for every rule of the site
 * that had outcomes in that time (the console's trend lines). The console's results chart and
 * CSV export read them. Any staff role.
 */
import type { Hono } from 'hono'
import { z } from 'zod'
import { dailyRuleFigures, dailySiteFigures } from '../../drizzle/queries/outcome-series'
import { getRule } from '../../drizzle/queries/rules'
import { requireStaff } from '../admin/auth'
import { parseWith } from '../admin/validate'
import type { HonoEnv } from '../context'
import { ApiError } from '../errors'

const query = z.object({
  days: z.coerce
    .number({ error: 'expected a number of days from 1 to 366' })
    .int('expected a whole number of days')
    .min(1, 'expected a number of days from 1 to 366')
    .max(366, 'expected a number of days from 1 to 366')
    .default(30),
})

export type DailyResultsResponse = {
  ruleId: string
  days: Awaited<ReturnType<typeof dailyRuleFigures>>
}

export type DailyAllResponse = {
  rules: { ruleId: string; days: DailyResultsResponse['days'] }[]
}

export function register(app: Hono<HonoEnv>): void {
  app.get('/v1/admin/stats/daily', async (c) => {
    const staff = await requireStaff(c)
    const { days } = parseWith(query, { days: c.req.query('days') })
    const series = await dailySiteFigures(c.get('services').db, staff.siteId, days)
    const body: DailyAllResponse = {
      rules: [...series].map(([ruleId, figures]) => ({ ruleId, days: figures })),
    }
    return c.json(body)
  })

  app.get('/v1/admin/stats/:ruleId/daily', async (c) => {
    const staff = await requireStaff(c)
    const { days } = parseWith(query, { days: c.req.query('days') })
    const { db } = c.get('services')
    const ruleId = c.req.param('ruleId')
    if (!(await getRule(db, staff.siteId, ruleId))) {
      throw new ApiError('NOT_FOUND', `No rule ${ruleId} on your site.`)
    }
    const body: DailyResultsResponse = {
      ruleId,
      days: await dailyRuleFigures(db, staff.siteId, ruleId, days),
    }
    return c.json(body)
  })
}
