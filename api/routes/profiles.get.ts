/**
 * @module GET /v1/profiles/:profileKey — one shopper's live profile, for the store's servers
 * (site secret only, api/server-auth.ts). `profileKey` is `u:<userId>` or `a:<anonymousId>`.
 * Score and interests are decayed to the time of the request with the workers' half-life.
 */
import type { Hono } from 'hono'
import { z } from 'zod'
import { halfLifeMsOf } from '../../drizzle/queries/sites'
import { EVENT_TYPES } from '../../streams/events'
import { createKeys } from '../../streams/keys'
import {
  countField,
  decayedFields,
  decayedValue,
  PROFILE_FIELDS,
  PROFILE_HALF_LIFE_MS,
  recentEvent,
  refField,
} from '../../streams/profile'
import type { HonoEnv } from '../context'
import { ApiError } from '../errors'
import { readAll, scored } from '../redis-read'
import { authorizeServer } from '../server-auth'
import { profileKeyOf, SHOPPER_KEY_REASON, shopperKey } from '../shopper-key'

/** Purchases listed, newest first (the count covers all of them). */
const BOUGHT_LISTED = 100

export const profileGetResponse = z.object({
  profileKey: z.string().describe('The key as requested: u:<userId> or a:<anonymousId>.'),
  at: z.number().describe('Epoch ms the decayed values are computed for (the request time).'),
  events: z.number().describe('Events applied, all types.'),
  eventsByType: z.record(z.string(), z.number()),
  firstSeen: z.number().describe('Event time (epoch ms) of the earliest event.'),
  lastSeen: z.number().describe('Event time (epoch ms) of the latest event.'),
  score: z
    .number()
    .describe('Engagement score decayed to `at` with the site’s half-life (default 7 days).'),
  interests: z
    .array(z.object({ category: z.string(), value: z.number() }))
    .describe('Category interests decayed to `at`, strongest first.'),
  purchases: z.number().describe('Order lines bought, all time.'),
  recent: z.array(recentEvent).describe('Recent events, newest first.'),
  bought: z
    .array(z.object({ productId: z.string(), ts: z.number() }))
    .describe(
      `Items bought with the time of the last purchase, newest first (at most ${BOUGHT_LISTED}).`,
    ),
})
export type ProfileGetResponse = z.infer<typeof profileGetResponse>

export function register(app: Hono<HonoEnv>): void {
  app.get('/v1/profiles/:profileKey', async (c) => {
    const { site } = await authorizeServer(c)
    const requested = c.req.param('profileKey')
    if (!shopperKey.safeParse(requested).success) {
      throw new ApiError('BAD_REQUEST', `Invalid profileKey "${requested}".`, {
        issues: [{ field: 'profileKey', reason: SHOPPER_KEY_REASON }],
      })
    }
    const { redis, config } = c.get('services')
    const keys = createKeys(config.NUDGE_KEY_PREFIX)
    const profile = profileKeyOf(site.id, requested)
    const read = redis
      .pipeline()
      .hgetall(keys.profile(profile))
      .hgetall(keys.profileInterests(profile))
      .zrevrange(keys.profileRecent(profile), 0, -1)
      .zrevrange(keys.profileBought(profile), 0, BOUGHT_LISTED - 1, 'WITHSCORES')
    const results = await readAll(c, read, 'Profiles')
    const [hash, interests, recent, bought] = results as [
      Record<string, string>,
      Record<string, string>,
      string[],
      string[],
    ]
    if (Object.keys(hash).length === 0) {
      throw new ApiError(
        'NOT_FOUND',
        `No profile ${requested} on this site. A profile appears once the shopper's first event has been processed; check the id and its prefix (u: for a userId, a: for an anonymousId).`,
      )
    }
    const now = Date.now()
    // Decay with the half-life the workers wrote this site's profiles with. From the site
    // cache: a changed half-life reaches reads within NUDGE_SITE_CACHE_TTL, as it reaches the
    // workers within their weights cache's minute.
    const halfLifeMs = halfLifeMsOf(site.halfLifeHours) ?? PROFILE_HALF_LIFE_MS
    const num = (field: string) => Number(hash[field] ?? 0)
    const body: ProfileGetResponse = {
      profileKey: requested,
      at: now,
      events: num(PROFILE_FIELDS.count),
      eventsByType: Object.fromEntries(
        EVENT_TYPES.filter((type) => hash[countField(type)] !== undefined).map((type) => [
          type,
          num(countField(type)),
        ]),
      ),
      firstSeen: num(PROFILE_FIELDS.first),
      lastSeen: num(PROFILE_FIELDS.last),
      score: decayedValue(
        num(PROFILE_FIELDS.score),
        num(refField(PROFILE_FIELDS.score)),
        now,
        halfLifeMs,
      ),
      interests: Object.entries(decayedFields(interests, now, halfLifeMs))
        .map(([category, value]) => ({ category, value }))
        .sort((a, b) => b.value - a.value),
      purchases: num(PROFILE_FIELDS.purchases),
      recent: recent.flatMap((json) => {
        const parsed = recentEvent.safeParse(safeJson(json))
        return parsed.success ? [parsed.data] : []
      }),
      bought: scored(bought).map(([productId, ts]) => ({ productId, ts })),
    }
    return c.json(body)
  })
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
