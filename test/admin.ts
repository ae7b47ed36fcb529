/**
 * @module Admin API test helpers: a staff account on the harness's site, a signed-in cookie
 * session with its CSRF token, and an API token; plus a second site to prove isolation.
 */
import { createSite } from '../drizzle/queries/sites'
import { createStaff } from '../drizzle/queries/staff'
import { createStaffToken } from '../drizzle/queries/staff-tokens'
import type { StaffRole } from '../drizzle/schema/offers'
import { hashPassword } from '../runtime/passwords'
import { type TestApi, testApi } from './harness'

export const PASSWORD = 'correct horse battery'

export type Caller = {
  /** Headers that authenticate a request (cookie + CSRF, or bearer token). */
  headers: Record<string, string>
  staffId: string
}

/** Makes a staff member on `siteId` and signs them in through POST /v1/admin/login. */
export async function signIn(
  t: TestApi,
  siteId: string,
  role: StaffRole = 'admin',
  email = `${role}@shop.example`,
): Promise<Caller> {
  const staff = await createStaff(t.db, {
    siteId,
    email,
    passwordHash: await hashPassword(PASSWORD),
    role,
  })
  const res = await t.app.request('/v1/admin/login', {
    method: 'POST',
    body: JSON.stringify({ email, password: PASSWORD, siteId }),
  })
  if (res.status !== 200) {
    throw new Error(`login failed: ${res.status} ${await res.text()}`)
  }
  const body = (await res.json()) as { csrfToken: string }
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string
  return { headers: { cookie, 'x-csrf-token': body.csrfToken }, staffId: staff.id }
}

/** An API token for a new staff member of `siteId`. */
export async function apiToken(
  t: TestApi,
  siteId: string,
  role: StaffRole = 'editor',
): Promise<Caller> {
  const staff = await createStaff(t.db, {
    siteId,
    email: `token-${role}@shop.example`,
    passwordHash: await hashPassword(PASSWORD),
    role,
  })
  const { token } = await createStaffToken(t.db, { staffId: staff.id, name: 'test' })
  return { headers: { authorization: `Bearer ${token}` }, staffId: staff.id }
}

/** The api harness with an admin signed in, and a second site with its own admin. */
export async function adminApi(env: Record<string, string> = {}) {
  const t = await testApi(env)
  const admin = await signIn(t, t.site.site.id)
  const other = await createSite(t.db, { name: 'Other store', allowedOrigins: [], box: t.box })
  const otherAdmin = await signIn(t, other.site.id, 'admin', 'admin@other.example')
  const call = (caller: Caller | undefined, method: string, path: string, body?: unknown) =>
    t.app.request(path, {
      method,
      headers: {
        ...(caller?.headers ?? {}),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
  return { ...t, admin, other, otherAdmin, call }
}
