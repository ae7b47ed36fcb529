/**
 * Changing one's own password: refusals name the field and why; a change ends every session of
 * the account and replaces the one that made it with a fresh one (new cookie, new CSRF token),
 * so a copy of the old cookie stops working; API tokens are revoked only when asked; the old
 * password becomes useless and the new one works; the change is audited; wrong current passwords
 * count towards the sign-in limit.
 */
import { describe, expect, it } from 'vitest'
import { adminApi, apiToken, type Caller, PASSWORD } from '../../test/admin'
import { LOGIN_LIMITS } from '../admin/login-limit'
import type { PasswordChangeResponse } from './admin.password'

type Api = Awaited<ReturnType<typeof adminApi>>

const NEW = 'a brand new passphrase'

async function signInAgain(t: Api, email: string, password: string): Promise<Caller | number> {
  const res = await t.call(undefined, 'POST', '/v1/admin/login', { email, password })
  if (res.status !== 200) {
    return res.status
  }
  const body = (await res.json()) as { csrfToken: string }
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string
  return { headers: { cookie, 'x-csrf-token': body.csrfToken }, staffId: '' }
}

/** The session a change answered with: its cookie and CSRF token, as a caller. */
function rotated(res: Response, body: PasswordChangeResponse, staffId: string): Caller {
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string
  return { headers: { cookie, 'x-csrf-token': body.csrfToken ?? '' }, staffId }
}

async function makeToken(t: Api, caller: Caller, name: string): Promise<string> {
  const res = await t.call(caller, 'POST', '/v1/admin/tokens', { name })
  expect(res.status, await res.clone().text()).toBe(201)
  return ((await res.json()) as { token: string }).token
}

function bearer(token: string): Caller {
  return { headers: { authorization: `Bearer ${token}` }, staffId: '' }
}

function issuesOf(body: unknown) {
  return (body as { error: { issues: { field: string; reason: string }[] } }).error.issues
}

describe('POST /v1/admin/password', () => {
  it('refuses a wrong current password and a weak or unchanged new one, field by field', async () => {
    const t = await adminApi()
    const cases: [unknown, string, string][] = [
      [
        { currentPassword: 'not it at all', newPassword: NEW },
        'currentPassword',
        'this is not your current password',
      ],
      [
        { currentPassword: PASSWORD, newPassword: 'short' },
        'newPassword',
        'use at least 10 characters',
      ],
      [{ currentPassword: PASSWORD }, 'newPassword', 'enter a new password'],
      [{ newPassword: NEW }, 'currentPassword', 'enter your current password'],
      [
        { currentPassword: PASSWORD, newPassword: PASSWORD },
        'newPassword',
        'choose a password different from the current one',
      ],
      [
        { currentPassword: PASSWORD, newPassword: NEW, revokeTokens: 'yes' },
        'revokeTokens',
        'expected true or false',
      ],
    ]
    for (const [body, field, reason] of cases) {
      const res = await t.call(t.admin, 'POST', '/v1/admin/password', body)
      const answer = await res.json()
      expect(res.status, JSON.stringify(answer)).toBe(400)
      expect(issuesOf(answer)).toEqual([{ field, reason }])
      expect(JSON.stringify(answer)).not.toContain(PASSWORD)
    }
    // Nothing changed: the old password still signs in.
    expect(typeof (await signInAgain(t, 'admin@shop.example', PASSWORD))).toBe('object')
    // A change needs the session's CSRF token like any other.
    const noCsrf = await t.call(
      { headers: { cookie: t.admin.headers.cookie as string }, staffId: '' },
      'POST',
      '/v1/admin/password',
      { currentPassword: PASSWORD, newPassword: NEW },
    )
    expect(noCsrf.status).toBe(403)
  })

  it('changes the password, ends every session, signs this one in afresh, and is audited', async () => {
    const t = await adminApi()
    const laptop = t.admin
    const phone = await signInAgain(t, 'admin@shop.example', PASSWORD)
    if (typeof phone === 'number') {
      throw new Error(`second sign-in failed: ${phone}`)
    }
    // Another member's session is none of this change's business.
    const { signIn } = await import('../../test/admin')
    const colleague = await signIn(t, t.site.site.id, 'editor')

    const res = await t.call(laptop, 'POST', '/v1/admin/password', {
      currentPassword: PASSWORD,
      newPassword: NEW,
    })
    const body = (await res.json()) as PasswordChangeResponse
    expect(res.status, JSON.stringify(body)).toBe(200)
    expect(body).toEqual({
      changed: true,
      otherSessionsEnded: 1,
      tokensRevoked: 0,
      csrfToken: expect.stringMatching(/^csrf_/),
      expiresAt: expect.any(String),
    })
    const setCookie = res.headers.get('set-cookie') ?? ''
    expect(setCookie).toMatch(/^nudge_session=ses_/)
    expect(setCookie).toContain('HttpOnly')
    expect(setCookie).toContain('SameSite=Strict')
    const fresh = rotated(res, body, laptop.staffId)
    expect(fresh.headers.cookie).not.toBe(laptop.headers.cookie)
    expect(fresh.headers['x-csrf-token']).not.toBe(laptop.headers['x-csrf-token'])

    // A copy of the old cookie (say, a stolen one) is out; the new cookie is this person, and
    // changes need the new session's CSRF token.
    expect((await t.call(laptop, 'GET', '/v1/admin/session')).status).toBe(401)
    expect((await t.call(laptop, 'GET', '/v1/admin/rules')).status).toBe(401)
    const me = await t.call(fresh, 'GET', '/v1/admin/session')
    expect(me.status).toBe(200)
    expect(await me.json()).toMatchObject({
      staff: { email: 'admin@shop.example' },
      csrfToken: body.csrfToken,
      expiresAt: body.expiresAt,
    })
    expect((await t.call(fresh, 'GET', '/v1/admin/rules')).status).toBe(200)
    const staleCsrf = {
      ...fresh,
      headers: { ...fresh.headers, 'x-csrf-token': laptop.headers['x-csrf-token'] as string },
    }
    expect((await t.call(staleCsrf, 'POST', '/v1/admin/tokens', { name: 'x' })).status).toBe(403)
    expect((await t.call(fresh, 'POST', '/v1/admin/tokens', { name: 'x' })).status).toBe(201)
    expect((await t.call(phone, 'GET', '/v1/admin/session')).status).toBe(401)
    expect((await t.call(colleague, 'GET', '/v1/admin/session')).status).toBe(200)

    expect(await signInAgain(t, 'admin@shop.example', PASSWORD)).toBe(401)
    expect(typeof (await signInAgain(t, 'admin@shop.example', NEW))).toBe('object')

    const audit = (await (await t.call(fresh, 'GET', '/v1/admin/audit')).json()) as {
      entries: { actor: string; action: string; subject: string; detail: unknown }[]
    }
    expect(audit.entries.find((e) => e.action === 'staff.password')).toEqual(
      expect.objectContaining({
        actor: 'admin@shop.example',
        subject: `staff:${laptop.staffId}`,
        detail: { otherSessionsEnded: 1, tokensRevoked: 0, revokedTokenIds: [] },
      }),
    )
    expect(JSON.stringify(audit)).not.toContain(NEW)
  })

  it('keeps API tokens unless revokeTokens is true, then revokes the live ones and says how many', async () => {
    const t = await adminApi()
    const ci = await makeToken(t, t.admin, 'ci')
    const colleagues = await apiToken(t, t.site.site.id)

    // A routine change: scripts keep working.
    const kept = await t.call(t.admin, 'POST', '/v1/admin/password', {
      currentPassword: PASSWORD,
      newPassword: NEW,
      revokeTokens: false,
    })
    const keptBody = (await kept.json()) as PasswordChangeResponse
    expect(kept.status, JSON.stringify(keptBody)).toBe(200)
    expect(keptBody.tokensRevoked).toBe(0)
    expect((await t.call(bearer(ci), 'GET', '/v1/admin/rules')).status).toBe(200)

    // After a suspected compromise: every live token of this member goes, nobody else's.
    const session = rotated(kept, keptBody, t.admin.staffId)
    const export_ = await makeToken(t, session, 'export')
    const res = await t.call(session, 'POST', '/v1/admin/password', {
      currentPassword: NEW,
      newPassword: `${NEW} again`,
      revokeTokens: true,
    })
    const body = (await res.json()) as PasswordChangeResponse
    expect(res.status, JSON.stringify(body)).toBe(200)
    expect(body).toMatchObject({ changed: true, otherSessionsEnded: 0, tokensRevoked: 2 })
    for (const token of [ci, export_]) {
      const refused = await t.call(bearer(token), 'GET', '/v1/admin/rules')
      expect(refused.status).toBe(401)
      expect(await refused.text()).toContain('was revoked on')
    }
    expect((await t.call(colleagues, 'GET', '/v1/admin/rules')).status).toBe(200)
    const after = rotated(res, body, t.admin.staffId)
    const listed = (await (await t.call(after, 'GET', '/v1/admin/tokens')).json()) as {
      tokens: { name: string; state: string }[]
    }
    expect(listed.tokens.map((tk) => [tk.name, tk.state])).toEqual([
      ['export', 'revoked'],
      ['ci', 'revoked'],
    ])
    const audit = JSON.stringify(await (await t.call(after, 'GET', '/v1/admin/audit')).json())
    expect(audit).toContain('"tokensRevoked":2')
  })

  it('made with an API token: ends every session, makes none, and may revoke that token too', async () => {
    const t = await adminApi()
    const token = await makeToken(t, t.admin, 'script')
    const res = await t.call(bearer(token), 'POST', '/v1/admin/password', {
      currentPassword: PASSWORD,
      newPassword: NEW,
      revokeTokens: true,
    })
    const body = (await res.json()) as PasswordChangeResponse
    expect(res.status, JSON.stringify(body)).toBe(200)
    // A token never turns into a session (which could make tokens): no cookie, no CSRF token.
    expect(body).toEqual({ changed: true, otherSessionsEnded: 1, tokensRevoked: 1 })
    expect(res.headers.get('set-cookie')).toBeNull()
    expect((await t.call(t.admin, 'GET', '/v1/admin/session')).status).toBe(401)
    expect((await t.call(bearer(token), 'GET', '/v1/admin/rules')).status).toBe(401)
  })

  it('counts wrong current passwords towards the sign-in limit', async () => {
    const t = await adminApi()
    for (let i = 0; i < LOGIN_LIMITS.perEmail; i++) {
      const res = await t.call(t.admin, 'POST', '/v1/admin/password', {
        currentPassword: `guess ${i}`,
        newPassword: NEW,
      })
      expect(res.status).toBe(400)
    }
    const limited = await t.call(t.admin, 'POST', '/v1/admin/password', {
      currentPassword: PASSWORD,
      newPassword: NEW,
    })
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await signInAgain(t, 'admin@shop.example', PASSWORD)).toBe(429)
  })
})
