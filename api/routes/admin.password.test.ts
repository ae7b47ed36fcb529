/**
 * Changing one's own password: refusals name the field and why; a change ends every other
 * session of the account but keeps the one that made it, makes the old password useless and the
 * new one work, and is audited; wrong current passwords count towards the sign-in limit.
 */
import { describe, expect, it } from 'vitest'
import { adminApi, type Caller, PASSWORD } from '../../test/admin'
import { LOGIN_LIMITS } from '../admin/login-limit'

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

  it('changes the password, ends the other sessions, keeps this one, and is audited', async () => {
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
    expect(res.status, await res.clone().text()).toBe(200)
    expect(await res.json()).toEqual({ changed: true, otherSessionsEnded: 1 })

    expect((await t.call(laptop, 'GET', '/v1/admin/session')).status).toBe(200)
    expect((await t.call(laptop, 'GET', '/v1/admin/rules')).status).toBe(200)
    expect((await t.call(phone, 'GET', '/v1/admin/session')).status).toBe(401)
    expect((await t.call(colleague, 'GET', '/v1/admin/session')).status).toBe(200)

    expect(await signInAgain(t, 'admin@shop.example', PASSWORD)).toBe(401)
    expect(typeof (await signInAgain(t, 'admin@shop.example', NEW))).toBe('object')

    const audit = (await (await t.call(laptop, 'GET', '/v1/admin/audit')).json()) as {
      entries: { actor: string; action: string; subject: string; detail: unknown }[]
    }
    expect(audit.entries.find((e) => e.action === 'staff.password')).toEqual(
      expect.objectContaining({
        actor: 'admin@shop.example',
        subject: `staff:${laptop.staffId}`,
        detail: { otherSessionsEnded: 1 },
      }),
    )
    expect(JSON.stringify(audit)).not.toContain(NEW)
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
