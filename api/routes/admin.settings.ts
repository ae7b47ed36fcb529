/**
 * @module The site's settings, for admins: GET /v1/admin/settings (name, write key, allowed
 * origins, engagement-weight overrides, time zone); POST / DELETE /v1/admin/settings/origins
 * `{origin}` allows or stops allowing a page origin; POST /v1/admin/settings/rotate `{what:
 * "secret"|"keys"}` replaces the secret (or both keys) and answers the new secret once; PUT
 * /v1/admin/settings/weights `{weights}` replaces the weight overrides (`{}` = the defaults).
 * Every change is audited. Other api processes see a change within NUDGE_SITE_CACHE_TTL.
 */
import type { Hono } from 'hono'
import { z } from 'zod'
import { recordAudit } from '../../drizzle/queries/audit'
import { siteTimezone } from '../../drizzle/queries/rules'
import {
  addOrigin,
  findEventWeights,
  findHalfLifeMs,
  findSite,
  HALF_LIFE_HOURS,
  removeOrigin,
  rotateKeys,
  rotateSecret,
  setEventWeights,
  setHalfLife,
} from '../../drizzle/queries/sites'
import { EVENT_TYPES, type EventType } from '../../streams/events'
import { requireStaff } from '../admin/auth'
import { parseWith } from '../admin/validate'
import { readJsonBody } from '../body'
import type { HonoEnv } from '../context'
import { ApiError } from '../errors'

const BODY_BYTES = 16 * 1024
/** The same bound `nudge sites set-weights` applies. */
const WEIGHT_LIMIT = 1000

const originInput = z.object({
  origin: z.string().trim().min(1, 'enter an origin such as https://shop.example').max(300),
})

const weightsInput = z.object({
  weights: z.partialRecord(
    z.enum(EVENT_TYPES as [EventType, ...EventType[]], {
      error: `expected event types: ${EVENT_TYPES.join(', ')}`,
    }),
    z
      .number({ error: 'expected a number' })
      .min(-WEIGHT_LIMIT, `expected a number from -${WEIGHT_LIMIT} to ${WEIGHT_LIMIT}`)
      .max(WEIGHT_LIMIT, `expected a number from -${WEIGHT_LIMIT} to ${WEIGHT_LIMIT}`),
  ),
})

const rotateInput = z.object({
  what: z.enum(['secret', 'keys'], { error: 'expected "secret" or "keys"' }),
})

export type SettingsResponse = {
  site: { id: string; name: string; writeKey: string; allowedOrigins: string[] }
  timezone: string
  eventWeights: Record<string, number>
  /** Half-life of the engagement score and interests; null = the default (168 hours). */
  halfLifeHours: number | null
  eventTypes: readonly string[]
}

const halfLifeInput = z.object({
  hours: z
    .number({ error: 'expected a whole number of hours, or null for the default week' })
    .int('expected a whole number of hours')
    .min(HALF_LIFE_HOURS.min, `expected at least ${HALF_LIFE_HOURS.min} hour`)
    .max(HALF_LIFE_HOURS.max, `expected at most ${HALF_LIFE_HOURS.max} hours (a year)`)
    .nullable(),
})

export function register(app: Hono<HonoEnv>): void {
  app.get('/v1/admin/settings', async (c) => {
    const me = await requireStaff(c, 'admin')
    const { db } = c.get('services')
    const site = await findSite(db, me.siteId)
    if (!site) {
      throw new ApiError('NOT_FOUND', 'Your site no longer exists.')
    }
    const body: SettingsResponse = {
      site: {
        id: site.id,
        name: site.name,
        writeKey: site.writeKey,
        allowedOrigins: site.allowedOrigins,
      },
      timezone: await siteTimezone(db, me.siteId),
      eventWeights: Object.fromEntries(
        Object.entries((await findEventWeights(db, me.siteId)).byType),
      ),
      halfLifeHours: ((await findHalfLifeMs(db, me.siteId)) ?? 0) / 3_600_000 || null,
      eventTypes: EVENT_TYPES,
    }
    return c.json(body)
  })

  for (const method of ['post', 'delete'] as const) {
    app[method]('/v1/admin/settings/origins', async (c) => {
      const me = await requireStaff(c, 'admin')
      const { origin } = parseWith(originInput, await readJsonBody(c, BODY_BYTES))
      const { db } = c.get('services')
      let changed: boolean
      let allowed: string[]
      try {
        const result =
          method === 'post'
            ? await addOrigin(db, me.siteId, origin)
            : await removeOrigin(db, me.siteId, origin)
        if (!result) {
          throw new ApiError('NOT_FOUND', 'Your site no longer exists.')
        }
        changed = 'added' in result ? result.added : result.removed
        allowed = result.site.allowedOrigins
      } catch (err) {
        if (err instanceof TypeError) {
          throw new ApiError('BAD_REQUEST', `Invalid origin "${origin}": ${err.message}`, {
            issues: [{ field: 'origin', reason: err.message }],
          })
        }
        throw err
      }
      if (changed) {
        await recordAudit(db, {
          siteId: me.siteId,
          actor: me.email,
          action: method === 'post' ? 'site.origin.add' : 'site.origin.remove',
          subject: `site:${me.siteId}`,
          detail: { origin },
        })
      }
      return c.json({ allowedOrigins: allowed, changed })
    })
  }

  app.post('/v1/admin/settings/rotate', async (c) => {
    const me = await requireStaff(c, 'admin')
    const { what } = parseWith(rotateInput, await readJsonBody(c, BODY_BYTES))
    const { db, identity } = c.get('services')
    const rotated =
      what === 'keys'
        ? await rotateKeys(db, me.siteId, identity.box)
        : await rotateSecret(db, me.siteId, identity.box)
    if (!rotated) {
      throw new ApiError('NOT_FOUND', 'Your site no longer exists.')
    }
    await recordAudit(db, {
      siteId: me.siteId,
      actor: me.email,
      action: what === 'keys' ? 'site.keys.rotate' : 'site.secret.rotate',
      subject: `site:${me.siteId}`,
    })
    return c.json({
      writeKey: rotated.writeKey,
      secret: rotated.secret,
      note: 'The secret is shown once: store it in your backend now.',
    })
  })

  app.put('/v1/admin/settings/weights', async (c) => {
    const me = await requireStaff(c, 'admin')
    const { weights } = parseWith(weightsInput, await readJsonBody(c, BODY_BYTES))
    const { db } = c.get('services')
    const clean = Object.fromEntries(
      Object.entries(weights).filter((e): e is [string, number] => e[1] !== undefined),
    )
    await setEventWeights(db, me.siteId, clean)
    await recordAudit(db, {
      siteId: me.siteId,
      actor: me.email,
      action: 'site.weights',
      subject: `site:${me.siteId}`,
      detail: { weights: clean },
    })
    return c.json({ eventWeights: clean })
  })

  /**
   * The half-life of the engagement score and category interests. It applies to events
   * processed from the next minute on (workers cache weights for a minute); stored values are
   * not rewritten, so old ones decay with the new half-life from then on.
   */
  app.put('/v1/admin/settings/half-life', async (c) => {
    const me = await requireStaff(c, 'admin')
    const { hours } = parseWith(halfLifeInput, await readJsonBody(c, BODY_BYTES))
    const { db } = c.get('services')
    await setHalfLife(db, me.siteId, hours)
    // Profile reads decay with the cached site's half-life: this process sees it at once.
    c.get('services').sites.clear()
    await recordAudit(db, {
      siteId: me.siteId,
      actor: me.email,
      action: 'site.half-life',
      subject: `site:${me.siteId}`,
      detail: { hours },
    })
    return c.json({ halfLifeHours: hours })
  })
}
