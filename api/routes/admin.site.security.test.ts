/**
 * The console's admin routes (results series, health, staff, settings) as one security matrix:
 * no caller → 401, too weak a role → 403, a cookie session without its CSRF token → 403, another
 * site's rule or account → 404, and admins cannot lock themselves out.
 */
import { describe, expect, it } from 'vitest'
import { adminApi, apiToken, signIn } from '../../test/admin'
import { shoesClicks } from '../../test/fixtures/rules'

const ROUTES: [string, string, unknown?][] = [
  ['GET', '/v1/admin/stats/daily'],
  ['GET', '/v1/admin/stats/rul_x/daily'],
  ['POST', '/v1/admin/rules/rul_x/test', { shopper: 'a:x' }],
  ['GET', '/v1/admin/health'],
  ['POST', '/v1/admin/health/retry', { queue: 'events' }],
  ['GET', '/v1/admin/staff'],
  ['POST', '/v1/admin/staff', { email: 'x@shop.example', role: 'viewer' }],
  ['PATCH', '/v1/admin/staff/stf_x', { role: 'viewer' }],
  ['DELETE', '/v1/admin/staff/stf_x'],
  ['GET', '/v1/admin/settings'],
  ['POST', '/v1/admin/settings/origins', { origin: 'https://a.example' }],
  ['DELETE', '/v1/admin/settings/origins', { origin: 'https://a.example' }],
  ['POST', '/v1/admin/settings/rotate', { what: 'secret' }],
  ['PUT', '/v1/admin/settings/weights', { weights: {} }],
]

const ADMIN_ONLY = ROUTES.filter(
  ([, path]) =>
    path.startsWith('/v1/admin/staff') ||
    path.startsWith('/v1/admin/settings') ||
    path === '/v1/admin/health/retry',
)

describe('console admin routes: security', () => {
  it('answers 401 without a session or token, and 403 to roles that may not', async () => {
    const t = await adminApi()
    const viewer = await signIn(t, t.site.site.id, 'viewer')
    const editor = await apiToken(t, t.site.site.id, 'editor')
    for (const [method, path, body] of ROUTES) {
      const res = await t.call(undefined, method, path, body)
      expect(res.status, `${method} ${path}: ${await res.text()}`).toBe(401)
    }
    for (const [method, path, body] of ADMIN_ONLY) {
      for (const caller of [viewer, editor]) {
        const res = await t.call(caller, method, path, body)
        expect(res.status, `${method} ${path}: ${await res.text()}`).toBe(403)
      }
    }
    const withoutCsrf = { ...t.admin, headers: { cookie: t.admin.headers.cookie as string } }
    const res = await t.call(withoutCsrf, 'POST', '/v1/admin/staff', {
      email: 'x@shop.example',
      role: 'viewer',
    })
    expect(res.status).toBe(403)
    // Viewers see the pipeline's figures, not why jobs failed.
    const health = await t.call(viewer, 'GET', '/v1/admin/health')
    expect(health.status).toBe(200)
    const body = (await health.json()) as { queues: { latestFailed: unknown[] }[] }
    expect(body.queues.every((q) => q.latestFailed.length === 0)).toBe(true)
  })

  it("keeps each site's rules and accounts to itself, and admins from locking themselves out", async () => {
    const t = await adminApi()
    const made = await t.call(t.admin, 'POST', '/v1/admin/rules', shoesClicks)
    const { id } = (await made.json()) as { id: string }
    const theirs = await t.call(t.otherAdmin, 'GET', `/v1/admin/stats/${id}/daily`)
    expect(theirs.status).toBe(404)
    const mine = await t.call(t.admin, 'GET', `/v1/admin/stats/${id}/daily?days=7`)
    expect(((await mine.json()) as { days: unknown[] }).days).toHaveLength(7)
    const test = await t.call(t.otherAdmin, 'POST', `/v1/admin/rules/${id}/test`, {
      shopper: 'a:x',
    })
    expect(test.status).toBe(404)
    const badShopper = await t.call(t.admin, 'POST', `/v1/admin/rules/${id}/test`, {
      shopper: 'x',
    })
    expect(await badShopper.json()).toMatchObject({ error: { issues: [{ field: 'shopper' }] } })
    const noOne = await t.call(t.admin, 'POST', `/v1/admin/rules/${id}/test`, { shopper: 'a:x' })
    expect(await noOne.json()).toEqual({
      shopper: 'a:x',
      trigger: null,
      passed: false,
      why: ['✗ no ClickedProduct event from this shopper yet'],
    })
    const bad = await t.call(t.admin, 'GET', `/v1/admin/stats/${id}/daily?days=0`)
    expect(await bad.json()).toMatchObject({ error: { issues: [{ field: 'days' }] } })

    const staff = (await (await t.call(t.admin, 'GET', '/v1/admin/staff')).json()) as {
      staff: { id: string; email: string }[]
    }
    const me = staff.staff.find((s) => s.email === 'admin@shop.example')
    expect(me).toBeDefined()
    const demote = await t.call(t.admin, 'PATCH', `/v1/admin/staff/${me?.id}`, { role: 'viewer' })
    expect(demote.status).toBe(403)
    const remove = await t.call(t.admin, 'DELETE', `/v1/admin/staff/${me?.id}`)
    expect(remove.status).toBe(403)
    const elsewhere = await t.call(t.otherAdmin, 'DELETE', `/v1/admin/staff/${me?.id}`)
    expect(elsewhere.status).toBe(404)
    const invited = await t.call(t.admin, 'POST', '/v1/admin/staff', {
      email: 'Admin@Shop.example',
      role: 'viewer',
    })
    expect(invited.status).toBe(409)
  })
})
