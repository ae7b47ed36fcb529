/**
 * @module What a rule would do and what it did: POST /v1/admin/rules/:id/preview (and
 * /v1/admin/preview for an unsaved rule) evaluates it against current profiles; GET
 * /v1/admin/stats gives outcomes per rule with the lift over the holdout; GET
 * /v1/admin/decisions/:shopper shows the shopper's latest decision traces.
 *
 * The preview reads at most `limit` profiles of the site (default 2,000, at most 20,000), the most
 * recently active first; it treats each shopper's latest event of the trigger type as
 * the triggering event, happening now. It reads only: no anchor is claimed, nothing is sent.
 */
import type { Context, Hono } from 'hono'
import { z } from 'zod'
import { ruleFigures } from '../../drizzle/queries/outcomes'
import { getRule, siteTimezone } from '../../drizzle/queries/rules'
import { findHalfLifeMs } from '../../drizzle/queries/sites'
import type { Redis } from '../../runtime/redis'
import { createKeys, type Keys } from '../../streams/keys'
import { compileConditions } from '../../streams/rule-conditions'
import { eventFromRecent, factsFor, readShoppers } from '../../streams/rule-facts'
import { type RuleSpec, ruleInput } from '../../streams/rules'
import { requireStaff } from '../admin/auth'
import { parseWith } from '../admin/validate'
import { readJsonBody, readOptionalJsonBody } from '../body'
import type { HonoEnv } from '../context'
import { ApiError } from '../errors'
import { profileKeyOf, SHOPPER_KEY_REASON, shopperKey } from '../shopper-key'
import { ADMIN_BODY_BYTES, specOf } from './admin.rules'

const previewOptions = z.object({
  limit: z.number().int().min(1).max(20_000).default(2_000),
  sample: z.number().int().min(0).max(50).default(10),
})

/**
 * The site's `limit` most recently active shoppers (keys.siteShoppers, kept by the workers).
 * Until the workers' one-time backfill has indexed the profiles written before the index
 * existed (keys.shoppersBackfilled), an index holding fewer is topped up by scanning the
 * keyspace with SCAN (never blocking Redis, in no particular order); after it, the index is
 * the whole answer, so a small site's preview does not walk every key of the install.
 */
async function recentProfiles(
  redis: Redis,
  keys: Keys,
  siteId: string,
  limit: number,
): Promise<string[]> {
  const [recent, backfilled] = await Promise.all([
    redis.zrevrange(keys.siteShoppers(siteId), 0, limit - 1),
    redis.exists(keys.shoppersBackfilled()),
  ])
  if (recent.length === limit || backfilled === 1) {
    return recent
  }
  const known = new Set(recent)
  for (const profile of await scanProfiles(redis, keys, siteId, limit)) {
    if (known.size === limit) {
      break
    }
    known.add(profile)
  }
  return [...known]
}

async function scanProfiles(
  redis: Redis,
  keys: Keys,
  siteId: string,
  limit: number,
): Promise<string[]> {
  // Main profile hashes are `…profile:{<site>:<kind>:<id>}`; the `}` at the end of the pattern
  // leaves out their companion keys (`…}:recent` and so on).
  const head = keys.profile(`${siteId}:`).slice(0, -1)
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${head}*}`, 'COUNT', 500)
    cursor = next
    for (const key of batch) {
      found.push(key.slice(head.length - siteId.length - 1, -1))
    }
  } while (cursor !== '0' && found.length < limit)
  return found.slice(0, limit)
}

async function preview(
  redis: Redis,
  keys: Keys,
  siteId: string,
  timezone: string,
  halfLifeMs: number | undefined,
  spec: RuleSpec,
  options: z.infer<typeof previewOptions>,
) {
  const profiles = await recentProfiles(redis, keys, siteId, options.limit)
  const { predicate, explain } = compileConditions(spec.conditions)
  const now = Date.now()
  const passed: unknown[] = []
  const failed: unknown[] = []
  let matching = 0
  for (let i = 0; i < profiles.length; i += 200) {
    const chunk = profiles.slice(i, i + 200)
    const states = await readShoppers(
      redis,
      keys,
      chunk.map((profile) => ({ profile, anchor: '' })),
      false,
    )
    for (const profile of chunk) {
      const state = states.get(profile)
      const last = state?.recent.findLast((r) => r.type === spec.trigger.event)
      const shopper = profile.slice(siteId.length + 1)
      if (!state || !last) {
        if (failed.length < options.sample) {
          failed.push({ shopper, passed: false, why: [`✗ no ${spec.trigger.event} event yet`] })
        }
        continue
      }
      const event = eventFromRecent(last, siteId, now)
      const facts = factsFor(event, state, timezone, halfLifeMs)
      const ok = predicate(facts)
      matching += ok ? 1 : 0
      const bucket = ok ? passed : failed
      if (bucket.length < options.sample) {
        bucket.push({ shopper, passed: ok, why: explain(facts).lines })
      }
    }
  }
  return { scanned: profiles.length, matching, sample: [...passed, ...failed] }
}

/** `preview` with the request's services and the site's time zone. */
async function previewOn(
  c: Context<HonoEnv>,
  siteId: string,
  spec: RuleSpec,
  options: z.infer<typeof previewOptions>,
) {
  const { db, redis, config } = c.get('services')
  const [timezone, halfLifeMs] = await Promise.all([
    siteTimezone(db, siteId),
    findHalfLifeMs(db, siteId),
  ])
  return preview(
    redis,
    createKeys(config.NUDGE_KEY_PREFIX),
    siteId,
    timezone,
    halfLifeMs,
    spec,
    options,
  )
}

function rate(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null
}

export function register(app: Hono<HonoEnv>): void {
  app.post('/v1/admin/rules/:id/preview', async (c) => {
    const staff = await requireStaff(c)
    const { db } = c.get('services')
    const rule = await getRule(db, staff.siteId, c.req.param('id'))
    if (!rule) {
      throw new ApiError('NOT_FOUND', `No rule ${c.req.param('id')} on your site.`)
    }
    // The body (options) is optional here: the rule is the stored one.
    const raw = await readOptionalJsonBody(c, ADMIN_BODY_BYTES)
    const options = parseWith(previewOptions, raw ?? {})
    return c.json(await previewOn(c, staff.siteId, ruleInput.parse(rule.spec), options))
  })

  app.post('/v1/admin/preview', async (c) => {
    const staff = await requireStaff(c)
    const body = (await readJsonBody(c, ADMIN_BODY_BYTES)) as { rule?: unknown } | null
    const spec = parseWith(ruleInput, specOf(body?.rule))
    const options = parseWith(previewOptions, { ...(body ?? {}), rule: undefined })
    return c.json(await previewOn(c, staff.siteId, spec, options))
  })

  app.get('/v1/admin/stats', async (c) => {
    const staff = await requireStaff(c)
    const { since } = parseWith(
      z.object({
        since: z.iso
          .datetime({ offset: true, error: 'expected an ISO date such as 2026-11-01T00:00:00Z' })
          .optional(),
      }),
      { since: c.req.query('since') },
    )
    const figures = await ruleFigures(
      c.get('services').db,
      staff.siteId,
      since ? new Date(since) : undefined,
    )
    return c.json({
      rules: figures.map((f) => {
        const conversion = rate(f.converted, f.delivered)
        const holdoutConversion = rate(f.holdoutConverted, f.holdout)
        return {
          ...f,
          showRate: rate(f.shown, f.delivered),
          clickRate: rate(f.clicked, f.shown),
          conversionRate: conversion,
          holdoutConversionRate: holdoutConversion,
          /** Relative lift of conversion over the holdout; null until both groups have data. */
          lift:
            conversion !== null && holdoutConversion !== null && holdoutConversion > 0
              ? conversion / holdoutConversion - 1
              : null,
        }
      }),
    })
  })

  app.get('/v1/admin/decisions/:shopper', async (c) => {
    const staff = await requireStaff(c)
    const shopper = c.req.param('shopper')
    if (!shopperKey.safeParse(shopper).success) {
      throw new ApiError('BAD_REQUEST', `Invalid shopper "${shopper}".`, {
        issues: [{ field: 'shopper', reason: SHOPPER_KEY_REASON }],
      })
    }
    const { redis, config } = c.get('services')
    const keys = createKeys(config.NUDGE_KEY_PREFIX)
    const traces = await redis.lrange(
      keys.profileDecisions(profileKeyOf(staff.siteId, shopper)),
      0,
      -1,
    )
    return c.json({ shopper, decisions: traces.map((t) => JSON.parse(t)) })
  })
}
