/**
 * @module The site's staff, for admins: GET /v1/admin/staff lists accounts and roles; POST
 * invites one (`{email, role}`) and answers a first password once, for the admin to pass on
 * (Nudge sends no email); PATCH /v1/admin/staff/:id changes a role; DELETE removes an account
 * (its sessions and tokens end with it). Admins cannot change or remove themselves, so a site
 * always keeps the admin who is acting. Every change is audited.
 */
import { randomBytes } from 'node:crypto'
import type { Hono } from 'hono'
import { z } from 'zod'
import { recordAudit } from '../../drizzle/queries/audit'
import { createStaff } from '../../drizzle/queries/staff'
import { listSiteStaff, removeStaff, setStaffRole } from '../../drizzle/queries/staff-admin'
import { hashPassword } from '../../runtime/passwords'
import { requireStaff } from '../admin/auth'
import { parseWith } from '../admin/validate'
import { readJsonBody } from '../body'
import type { HonoEnv } from '../context'
import { ApiError } from '../errors'

const BODY_BYTES = 16 * 1024
const ROLES = ['viewer', 'editor', 'admin'] as const
const role = z.enum(ROLES, { error: 'expected viewer, editor or admin' })

const invite = z.object({
  email: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.email({ error: 'expected an email address such as name@shop.example' })),
  role,
})

export type StaffListResponse = {
  staff: { id: string; email: string; role: (typeof ROLES)[number] }[]
}
export type InviteResponse = {
  staff: { id: string; email: string; role: (typeof ROLES)[number] }
  password: string
  note: string
}

export function register(app: Hono<HonoEnv>): void {
  app.get('/v1/admin/staff', async (c) => {
    const me = await requireStaff(c, 'admin')
    const all = await listSiteStaff(c.get('services').db, me.siteId)
    const body: StaffListResponse = {
      staff: all.map(({ id, email, role }) => ({ id, email, role })),
    }
    return c.json(body)
  })

  app.post('/v1/admin/staff', async (c) => {
    const me = await requireStaff(c, 'admin')
    const input = parseWith(invite, await readJsonBody(c, BODY_BYTES))
    const { db } = c.get('services')
    if ((await listSiteStaff(db, me.siteId)).some((s) => s.email === input.email)) {
      throw new ApiError('CONFLICT', `${input.email} already has an account on this site.`, {
        issues: [{ field: 'email', reason: 'this email already has an account here' }],
      })
    }
    const password = randomBytes(12).toString('base64url')
    const made = await createStaff(db, {
      siteId: me.siteId,
      email: input.email,
      role: input.role,
      passwordHash: await hashPassword(password),
    })
    await recordAudit(db, {
      siteId: me.siteId,
      actor: me.email,
      action: 'staff.invite',
      subject: `staff:${made.id}`,
      detail: { email: made.email, role: made.role },
    })
    const body: InviteResponse = {
      staff: { id: made.id, email: made.email, role: made.role },
      password,
      note: 'Shown once: pass it on to them; they sign in with it at /console.',
    }
    return c.json(body, 201)
  })

  app.patch('/v1/admin/staff/:id', async (c) => {
    const me = await requireStaff(c, 'admin')
    const input = parseWith(z.object({ role }), await readJsonBody(c, BODY_BYTES))
    const id = c.req.param('id')
    const { db } = c.get('services')
    const target = (await listSiteStaff(db, me.siteId)).find((s) => s.id === id)
    if (!target) {
      throw new ApiError('NOT_FOUND', `No staff account ${id} on your site.`)
    }
    if (target.email === me.email) {
      throw new ApiError('FORBIDDEN', 'You cannot change your own role; ask another admin.')
    }
    const changed = await setStaffRole(db, me.siteId, id, input.role)
    await recordAudit(db, {
      siteId: me.siteId,
      actor: me.email,
      action: 'staff.role',
      subject: `staff:${id}`,
      detail: { email: target.email, from: target.role, to: input.role },
    })
    return c.json({ staff: changed })
  })

  app.delete('/v1/admin/staff/:id', async (c) => {
    const me = await requireStaff(c, 'admin')
    const id = c.req.param('id')
    const { db } = c.get('services')
    const target = (await listSiteStaff(db, me.siteId)).find((s) => s.id === id)
    if (!target) {
      throw new ApiError('NOT_FOUND', `No staff account ${id} on your site.`)
    }
    if (target.email === me.email) {
      throw new ApiError('FORBIDDEN', 'You cannot remove your own account; ask another admin.')
    }
    await removeStaff(db, me.siteId, id)
    await recordAudit(db, {
      siteId: me.siteId,
      actor: me.email,
      action: 'staff.remove',
      subject: `staff:${id}`,
      detail: { email: target.email, role: target.role },
    })
    return c.body(null, 204)
  })
}
