/**
 * @module The rules of the signed-in staff member's site: list, create, get, change (a new
 * version), activate / pause / archive, versions, and the audit log. Viewers read; editors and
 * admins change. Every change is audited (drizzle/queries/rules.ts) and announced on
 * `rules:changed`, which makes every worker reload its rules within a second.
 */
import type { Context, Hono } from 'hono'
import { z } from 'zod'
import {
  createRule,
  getRule,
  listAudit,
  listRules,
  listRuleVersions,
  type RuleStatus,
  type StoredRule,
  setRuleStatus,
  updateRule,
} from '../../drizzle/queries/rules'
import { createKeys } from '../../streams/keys'
import { RULE_STATUSES, ruleInput, ruleJsonSchema } from '../../streams/rules'
import { requireStaff } from '../admin/auth'
import { parseWith } from '../admin/validate'
import { readJsonBody } from '../body'
import type { HonoEnv } from '../context'
import { ApiError } from '../errors'

export const ADMIN_BODY_BYTES = 256 * 1024

/** A rule as the admin API shows it: the spec's fields plus id, status and version. */
export function present(rule: StoredRule) {
  return {
    id: rule.id,
    status: rule.status,
    version: rule.version,
    ...rule.spec,
    createdAt: rule.createdAt.toISOString(),
    updatedAt: rule.updatedAt.toISOString(),
    updatedBy: rule.updatedBy,
  }
}

async function announce(c: Context<HonoEnv>, siteId: string): Promise<void> {
  const { redis, config, logger } = c.get('services')
  // The change is committed; a failed announcement only delays workers until their next
  // (re)subscribe, so it is logged rather than failing the request.
  await redis
    .publish(createKeys(config.NUDGE_KEY_PREFIX).rulesChanged(), siteId)
    .catch((err) => logger.warn({ err }, 'could not announce a rule change'))
}

function notFound(id: string): ApiError {
  return new ApiError('NOT_FOUND', `No rule ${id} on your site.`)
}

const statusQuery = z
  .string()
  .transform((raw) => raw.split(',').filter(Boolean))
  .pipe(z.array(z.enum(RULE_STATUSES, { error: `expected ${RULE_STATUSES.join(', ')}` })))

/** Fields GET answers carry besides the spec; a PUT of a GET answer ignores them. */
const META = new Set(['id', 'status', 'version', 'createdAt', 'updatedAt', 'updatedBy'])

/** The spec part of a body: everything but the META fields. */
export function specOf(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return body
  }
  return Object.fromEntries(Object.entries(body).filter(([key]) => !META.has(key)))
}

const ACTIONS: Record<string, RuleStatus> = {
  activate: 'active',
  pause: 'paused',
  archive: 'archived',
}

export function register(app: Hono<HonoEnv>): void {
  app.get('/v1/schemas/rule', (c) => c.json(ruleJsonSchema()))

  app.get('/v1/admin/rules', async (c) => {
    const staff = await requireStaff(c)
    const status = c.req.query('status')
    const statuses = status === undefined ? undefined : parseWith(statusQuery, status)
    const rules = await listRules(c.get('services').db, staff.siteId, statuses)
    return c.json({ rules: rules.map(present) })
  })

  app.post('/v1/admin/rules', async (c) => {
    const staff = await requireStaff(c, 'editor')
    const body = await readJsonBody(c, ADMIN_BODY_BYTES)
    const { status: initial } = parseWith(
      z.object({
        status: z
          .enum(['draft', 'active'], { error: 'a new rule starts as draft or active' })
          .default('draft'),
      }),
      { status: (body as { status?: unknown } | null)?.status },
    )
    const spec = parseWith(ruleInput, specOf(body))
    const rule = await createRule(c.get('services').db, {
      siteId: staff.siteId,
      spec,
      status: initial,
      actor: staff.email,
    })
    await announce(c, staff.siteId)
    return c.json(present(rule), 201)
  })

  app.get('/v1/admin/rules/:id', async (c) => {
    const staff = await requireStaff(c)
    const rule = await getRule(c.get('services').db, staff.siteId, c.req.param('id'))
    if (!rule) {
      throw notFound(c.req.param('id'))
    }
    return c.json(present(rule))
  })

  app.put('/v1/admin/rules/:id', async (c) => {
    const staff = await requireStaff(c, 'editor')
    const spec = parseWith(ruleInput, specOf(await readJsonBody(c, ADMIN_BODY_BYTES)))
    const rule = await updateRule(c.get('services').db, {
      siteId: staff.siteId,
      id: c.req.param('id'),
      spec,
      actor: staff.email,
    })
    if (!rule) {
      throw notFound(c.req.param('id'))
    }
    await announce(c, staff.siteId)
    return c.json(present(rule))
  })

  app.post('/v1/admin/rules/:id/:action{activate|pause|archive}', async (c) => {
    const staff = await requireStaff(c, 'editor')
    const status = ACTIONS[c.req.param('action')] as RuleStatus
    const rule = await setRuleStatus(c.get('services').db, {
      siteId: staff.siteId,
      id: c.req.param('id'),
      status,
      actor: staff.email,
    })
    if (!rule) {
      throw notFound(c.req.param('id'))
    }
    await announce(c, staff.siteId)
    return c.json(present(rule))
  })

  app.get('/v1/admin/rules/:id/versions', async (c) => {
    const staff = await requireStaff(c)
    const versions = await listRuleVersions(c.get('services').db, staff.siteId, c.req.param('id'))
    if (versions.length === 0) {
      throw notFound(c.req.param('id'))
    }
    return c.json({
      versions: versions.map((v) => ({ ...v, createdAt: v.createdAt.toISOString() })),
    })
  })

  app.get('/v1/admin/audit', async (c) => {
    const staff = await requireStaff(c)
    const limit = parseWith(
      z.coerce.number().int().min(1).max(1000).default(100),
      c.req.query('limit'),
    )
    const entries = await listAudit(c.get('services').db, staff.siteId, limit)
    return c.json({ entries: entries.map((e) => ({ ...e, at: e.at.toISOString() })) })
  })
}
