/**
 * @module POST /v1/admin/rules/:id/test `{shopper}`: would this rule's conditions pass for one
 * shopper right now, and why — the console's "test on a profile" dry run, for a draft as much as
 * for an active rule. Like the preview (admin.insights.ts), it takes the shopper's latest event
 * of the trigger type as the triggering event, happening now, and only reads: no anchor is
 * claimed and nothing is sent. Caps, cooldown, budget, audience and holdout are not applied (the
 * shopper's decision traces show those). Any staff role.
 * The trigger event is rebuilt by streams/rule-facts.ts `eventFromRecent`, as for the preview.
 */
import type { Hono } from 'hono'
import { z } from 'zod'
import { getRule, siteTimezone } from '../../drizzle/queries/rules'
import { findHalfLifeMs } from '../../drizzle/queries/sites'
import { createKeys } from '../../streams/keys'
import { compileConditions } from '../../streams/rule-conditions'
import { eventFromRecent, factsFor, readShoppers } from '../../streams/rule-facts'
import { ruleInput } from '../../streams/rules'
import { requireStaff } from '../admin/auth'
import { parseWith } from '../admin/validate'
import { readJsonBody } from '../body'
import type { HonoEnv } from '../context'
import { ApiError } from '../errors'
import { profileKeyOf, shopperKey } from '../shopper-key'

const input = z.object({ shopper: shopperKey })

export type RuleTestResponse = {
  shopper: string
  /** The event taken as the trigger; null when the shopper has none of that type yet. */
  trigger: { type: string; at: number } | null
  passed: boolean
  why: string[]
}

export function register(app: Hono<HonoEnv>): void {
  app.post('/v1/admin/rules/:id/test', async (c) => {
    const staff = await requireStaff(c)
    const { shopper } = parseWith(input, (await readJsonBody(c, 16 * 1024)) ?? {})
    const { db, redis, config } = c.get('services')
    const rule = await getRule(db, staff.siteId, c.req.param('id'))
    if (!rule) {
      throw new ApiError('NOT_FOUND', `No rule ${c.req.param('id')} on your site.`)
    }
    const spec = ruleInput.parse(rule.spec)
    const profile = profileKeyOf(staff.siteId, shopper)
    const states = await readShoppers(
      redis,
      createKeys(config.NUDGE_KEY_PREFIX),
      [{ profile, anchor: '' }],
      false,
    )
    const state = states.get(profile)
    const last = state?.recent.findLast((r) => r.type === spec.trigger.event)
    if (!state || !last) {
      const answer: RuleTestResponse = {
        shopper,
        trigger: null,
        passed: false,
        why: [`✗ no ${spec.trigger.event} event from this shopper yet`],
      }
      return c.json(answer)
    }
    const now = Date.now()
    const event = eventFromRecent(last, staff.siteId, now)
    const facts = factsFor(
      event,
      state,
      await siteTimezone(db, staff.siteId),
      await findHalfLifeMs(db, staff.siteId),
    )
    const { predicate, explain } = compileConditions(spec.conditions)
    const answer: RuleTestResponse = {
      shopper,
      trigger: { type: last.type, at: last.ts },
      passed: predicate(facts),
      why: explain(facts).lines,
    }
    return c.json(answer)
  })
}
