/**
 * @module GET /v1/recommendations — for the store's servers (site secret only):
 * - `kind=personal&profile=u:<id>|a:<id>`: the shopper's list, kept fresh by the workers on
 *   each of their events; topped up with site-wide trending (never what they bought) while it
 *   is shorter than `limit`, which is the whole answer for a shopper with no item events yet.
 * - `kind=similar&item=<productId>`: items most often viewed, carted or bought with it,
 *   normalised by popularity; an item nobody interacted with yet has an empty list.
 * - `kind=trending[&category=<c>]`: decayed popularity, site-wide or in one category.
 * All answers are reads of sets the workers precompute (streams/recommendations.ts): one
 * pipeline per request.
 */
import type { Hono } from 'hono'
import { z } from 'zod'
import { createKeys } from '../../streams/keys'
import {
  MAX_RECOMMENDATIONS,
  similarity,
  trendingEpochField,
  trendingScoreAt,
} from '../../streams/recommendations'
import type { HonoEnv } from '../context'
import { ApiError, type FieldIssue } from '../errors'
import { readAll, scored } from '../redis-read'
import { authorizeServer } from '../server-auth'
import { profileKeyOf, SHOPPER_KEY_REASON, shopperKey } from '../shopper-key'

const KINDS = ['personal', 'similar', 'trending'] as const

/** Purchases (newest first) kept out of a personal answer's trending top-up. */
const BOUGHT_EXCLUDED = 500

/** Which parameter each kind requires, and which it accepts. */
const PARAMS: Record<(typeof KINDS)[number], { required?: 'profile' | 'item'; allowed: string[] }> =
  {
    personal: { required: 'profile', allowed: ['profile'] },
    similar: { required: 'item', allowed: ['item'] },
    trending: { allowed: ['category'] },
  }

export const recommendationsRequest = z.strictObject({
  kind: z
    .enum(KINDS, { message: `expected one of ${KINDS.join(', ')}` })
    .default('personal')
    .describe('What to recommend; personal when absent.'),
  profile: shopperKey.optional().describe('kind=personal: u:<userId> or a:<anonymousId>.'),
  item: z
    .string()
    .min(1, 'expected a productId')
    .max(128, 'expected at most 128 characters')
    .optional()
    .describe('kind=similar: the productId to find neighbours of.'),
  category: z
    .string()
    .min(1, 'expected a category name')
    .max(256, 'expected at most 256 characters')
    .optional()
    .describe('kind=trending: one category instead of the whole site.'),
  limit: z.coerce
    .number({ message: `expected a whole number from 1 to ${MAX_RECOMMENDATIONS}` })
    .int(`expected a whole number from 1 to ${MAX_RECOMMENDATIONS}`)
    .min(1, `expected a whole number from 1 to ${MAX_RECOMMENDATIONS}`)
    .max(MAX_RECOMMENDATIONS, `expected a whole number from 1 to ${MAX_RECOMMENDATIONS}`)
    .default(10),
})
const KNOWN = Object.keys(recommendationsRequest.shape).join(', ')
export type RecommendationsRequest = z.infer<typeof recommendationsRequest>

export const recommendationsResponse = z.object({
  kind: z.enum(KINDS),
  items: z.array(
    z.object({
      productId: z.string(),
      score: z.number().describe('Higher is better; comparable within one answer only.'),
      source: z
        .enum(['personal', 'similar', 'trending'])
        .describe('personal answers: `trending` marks top-up items.'),
    }),
  ),
})
export type RecommendationsResponse = z.infer<typeof recommendationsResponse>
type Item = RecommendationsResponse['items'][number]

export function register(app: Hono<HonoEnv>): void {
  app.get('/v1/recommendations', async (c) => {
    const { site } = await authorizeServer(c)
    const query = parseQuery(c.req.query())
    const { redis, config } = c.get('services')
    const keys = createKeys(config.NUDGE_KEY_PREFIX)
    const { kind, limit } = query
    const read = redis.pipeline()
    let items: Item[]

    if (kind === 'similar') {
      const item = query.item ?? ''
      read.zrevrange(keys.recNeighbours(site.id, item), 0, limit - 1, 'WITHSCORES')
      read.hget(keys.recItem(site.id, item), 'n')
      const [neighbours, n] = await readAll(c, read, 'Recommendations')
      items = scored(neighbours as string[]).map(([productId, stored]) => ({
        productId,
        score: similarity(stored, Number(n ?? 0)),
        source: 'similar',
      }))
    } else if (kind === 'trending') {
      read.zrevrange(keys.recTrending(site.id, query.category), 0, limit - 1, 'WITHSCORES')
      read.hget(keys.recTrendingEpochs(site.id), trendingEpochField(query.category))
      const [trending, epoch] = await readAll(c, read, 'Recommendations')
      const now = Date.now()
      items = scored(trending as string[]).map(([productId, stored]) => ({
        productId,
        score: trendingScoreAt(stored, Number(epoch ?? now), now),
        source: 'trending',
      }))
    } else {
      const requested = query.profile ?? ''
      const profile = profileKeyOf(site.id, requested)
      read.exists(keys.profile(profile))
      read.zrevrange(keys.profileRecs(profile), 0, limit - 1, 'WITHSCORES')
      // Enough trending to top up even if every listed item is excluded or already there.
      read.zrevrange(keys.recTrending(site.id), 0, 2 * limit - 1, 'WITHSCORES')
      read.zrevrange(keys.profileBought(profile), 0, BOUGHT_EXCLUDED - 1)
      const [exists, recs, trending, bought] = await readAll(c, read, 'Recommendations')
      if (exists === 0) {
        throw new ApiError(
          'NOT_FOUND',
          `No profile ${requested} on this site. A profile appears once the shopper's first event has been processed; check the id and its prefix (u: for a userId, a: for an anonymousId).`,
        )
      }
      items = topUp(
        scored(recs as string[]),
        scored(trending as string[]),
        new Set(bought as string[]),
        limit,
      )
    }
    const body: RecommendationsResponse = { kind, items }
    return c.json(body)
  })
}

/** Validates the query, naming each bad or misplaced parameter and what it expects. */
function parseQuery(raw: Record<string, string>): RecommendationsRequest {
  const parsed = recommendationsRequest.safeParse(raw)
  if (!parsed.success) {
    const issues: FieldIssue[] = parsed.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((field) => ({ field, reason: `unknown parameter; expected ${KNOWN}` }))
        : [
            {
              field: String(issue.path[0] ?? 'query'),
              reason: issue.path[0] === 'profile' ? SHOPPER_KEY_REASON : issue.message,
            },
          ],
    )
    throw badRequest(issues)
  }
  const query = parsed.data
  const rule = PARAMS[query.kind]
  const issues: FieldIssue[] = []
  if (rule.required && query[rule.required] === undefined) {
    issues.push({ field: rule.required, reason: `required with kind=${query.kind}` })
  }
  for (const name of ['profile', 'item', 'category'] as const) {
    if (query[name] !== undefined && !rule.allowed.includes(name)) {
      const owner = KINDS.find((kind) => PARAMS[kind].allowed.includes(name))
      issues.push({ field: name, reason: `only used with kind=${owner}, not kind=${query.kind}` })
    }
  }
  if (issues.length > 0) {
    throw badRequest(issues)
  }
  return query
}

function badRequest(issues: FieldIssue[]): ApiError {
  const summary = issues.map((i) => `${i.field}: ${i.reason}`).join('; ')
  return new ApiError('BAD_REQUEST', `Invalid query: ${summary}.`, { issues })
}

/**
 * The personal list, then trending items (scaled below the list's last score, never an item
 * the shopper bought or one already listed) until `limit`.
 */
function topUp(
  recs: [string, number][],
  trending: [string, number][],
  bought: ReadonlySet<string>,
  limit: number,
): Item[] {
  const items: Item[] = recs.map(([productId, score]) => ({ productId, score, source: 'personal' }))
  const listed = new Set(recs.map(([item]) => item))
  const floor = recs.at(-1)?.[1] ?? 1
  const top = trending[0]?.[1] ?? 0
  for (const [productId, stored] of trending) {
    if (items.length >= limit) {
      break
    }
    if (!listed.has(productId) && !bought.has(productId) && top > 0) {
      items.push({ productId, score: (floor * stored) / top / 2, source: 'trending' })
      listed.add(productId)
    }
  }
  return items
}
