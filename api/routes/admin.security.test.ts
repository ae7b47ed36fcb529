/**
 * Every admin route: 401 without a valid session or token (forged, expired or revoked), 404 for
 * another site's rule, CSRF, roles.
 */
import { describe, expect, it } from 'vitest'
import { createStaffToken, revokeStaffToken } from '../../drizzle/queries/staff-tokens'
import { adminApi } from '../../test/admin'
import { EXAMPLE_RULES } from '../../test/fixtures/rules'

const ROUTES: [string, string, unknown?][] = [
  ['GET', '/v1/admin/session'],
  ['POST', '/v1/admin/logout'],
  ['POST', '/v1/admin/tokens', { name: 'x' }],
  ['GET', '/v1/admin/tokens'],
  ['DELETE', '/v1/admin/tokens/tok_x'],
  [
    'POST',
    '/v1/admin/password',
    { currentPassword: 'correct horse battery', newPassword: 'x'.repeat(12) },
  ],
  ['GET', '/v1/admin/rules'],
  ['POST', '/v1/admin/rules', EXAMPLE_RULES.shoesClicks],
  ['GET', '/v1/admin/rules/:id'],
  ['PUT', '/v1/admin/rules/:id', EXAMPLE_RULES.shoesClicks],
  ['POST', '/v1/admin/rules/:id/activate'],
  ['POST', '/v1/admin/rules/:id/pause'],
  ['POST', '/v1/admin/rules/:id/archive'],
  ['GET', '/v1/admin/rules/:id/versions'],
  ['POST', '/v1/admin/rules/:id/preview', {}],
  ['POST', '/v1/admin/preview', { rule: EXAMPLE_RULES.shoesClicks }],
  ['GET', '/v1/admin/audit'],
  ['GET', '/v1/admin/stats'],
  ['GET', '/v1/admin/decisions/a:anon-1'],
]

describe('admin API security', () => {
  it('answers 401 on every route without a session or token, or with a bad one', async () => {
    const t = await adminApi()
    const made = await t.call(t.admin, 'POST', '/v1/admin/rules', EXAMPLE_RULES.shoesClicks)
    const { id } = (await made.json()) as { id: string }
    // The admin's own tokens, once good: one ended yesterday, one revoked.
    const expired = await createStaffToken(t.db, {
      staffId: t.admin.staffId,
      name: 'expired',
      expiresInDays: 1,
      now: new Date(Date.now() - 2 * 86_400_000),
    })
    const revoked = await createStaffToken(t.db, { staffId: t.admin.staffId, name: 'revoked' })
    await revokeStaffToken(t.db, { siteId: t.site.site.id, id: revoked.id })
    for (const [method, path, body] of ROUTES) {
      const url = path.replace(':id', id)
      for (const headers of [
        {},
        { authorization: 'Bearer ntk_forged' },
        { authorization: 'Basic abc' },
        { cookie: 'nudge_session=ses_forged' },
        { authorization: `Bearer ${expired.token}` },
        { authorization: `Bearer ${revoked.token}` },
        { authorization: `Bearer ${revoked.id}` },
      ]) {
        const res = await t.call(
          { headers: headers as Record<string, string>, staffId: '' },
          method,
          url,
          body,
        )
        expect(res.status, `${method} ${url} with ${JSON.stringify(headers)}`).toBe(401)
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED')
      }
    }
  })

  it('answers 404 for another site’s rule on every rule route, and lists only its own', async () => {
    const t = await adminApi()
    const made = await t.call(t.admin, 'POST', '/v1/admin/rules', EXAMPLE_RULES.shoesClicks)
    const { id } = (await made.json()) as { id: string }
    for (const [method, path, body] of ROUTES.filter(([, p]) => p.includes(':id'))) {
      const res = await t.call(t.otherAdmin, method, path.replace(':id', id), body)
      expect(res.status, `${method} ${path}`).toBe(404)
    }
    const list = await (await t.call(t.otherAdmin, 'GET', '/v1/admin/rules')).json()
    expect(list).toEqual({ rules: [] })
    // Nothing changed for the owner.
    const mine = (await (await t.call(t.admin, 'GET', `/v1/admin/rules/${id}`)).json()) as {
      version: number
      status: string
    }
    expect(mine).toMatchObject({ version: 1, status: 'draft' })
  })

  it('refuses a cookie session’s change without its CSRF token', async () => {
    const t = await adminApi()
    const { cookie } = t.admin.headers as { cookie: string }
    const noToken = await t.call(
      { headers: { cookie }, staffId: '' },
      'POST',
      '/v1/admin/rules',
      EXAMPLE_RULES.shoesClicks,
    )
    expect(noToken.status).toBe(403)
    const wrong = await t.call(
      { headers: { cookie, 'x-csrf-token': 'csrf_guess' }, staffId: '' },
      'POST',
      '/v1/admin/rules',
      EXAMPLE_RULES.shoesClicks,
    )
    expect(wrong.status).toBe(403)
    // Reads need no token.
    expect(
      (await t.call({ headers: { cookie }, staffId: '' }, 'GET', '/v1/admin/rules')).status,
    ).toBe(200)
  })

  it('lets viewers read but not change rules', async () => {
    const t = await adminApi()
    const { signIn } = await import('../../test/admin')
    const viewer = await signIn(t, t.site.site.id, 'viewer')
    expect((await t.call(viewer, 'GET', '/v1/admin/rules')).status).toBe(200)
    const res = await t.call(viewer, 'POST', '/v1/admin/rules', EXAMPLE_RULES.shoesClicks)
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
      'editor or admin',
    )
  })

  it('signs in with the right password only, sets a strict httpOnly cookie, and signs out', async () => {
    const t = await adminApi()
    const wrong = await t.call(undefined, 'POST', '/v1/admin/login', {
      email: 'admin@shop.example',
      password: 'nope',
    })
    expect(wrong.status).toBe(401)
    const unknown = await t.call(undefined, 'POST', '/v1/admin/login', {
      email: 'who@shop.example',
      password: 'nope',
    })
    expect(await unknown.json()).toMatchObject({
      error: { message: 'Email or password is wrong.' },
    })
    const ok = await t.call(undefined, 'POST', '/v1/admin/login', {
      email: 'admin@shop.example',
      password: 'correct horse battery',
    })
    expect(ok.status).toBe(200)
    const cookie = ok.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/nudge_session=ses_/)
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Strict/i)
    const session = {
      headers: {
        cookie: cookie.split(';')[0] as string,
        'x-csrf-token': ((await ok.json()) as { csrfToken: string }).csrfToken,
      },
      staffId: '',
    }
    expect((await t.call(session, 'POST', '/v1/admin/logout')).status).toBe(204)
    expect((await t.call(session, 'GET', '/v1/admin/rules')).status).toBe(401)
  })
})
