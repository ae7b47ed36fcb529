/**
 * The sign-in limit: 10 failed attempts per email and 50 per client IP within 15 minutes, shared
 * through Redis, then 429 with Retry-After in plain words — for unknown emails exactly as for
 * known ones, and with the same scrypt work either way before that. A successful sign-in resets
 * the email's count. The console's sign-in page says the same and counts the visitor's address.
 * Without Redis the limit fails closed: 503 with Retry-After, and no session.
 */
import { eq } from 'drizzle-orm'
import { describe, expect, it, onTestFinished } from 'vitest'
import { staffSessions } from '../../drizzle/schema/offers'
import { createRedis } from '../../runtime/redis'
import { adminApi, PASSWORD } from '../../test/admin'
import { serveApp } from '../../test/serve'
import { createLoginLimiter, LOGIN_LIMITS, loginKeys } from '../admin/login-limit'
import { createApp } from '../app'

type Api = Awaited<ReturnType<typeof adminApi>>

function login(t: Api, email: string, password: string, headers: Record<string, string> = {}) {
  return t.app.request('/v1/admin/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ email, password }),
  })
}

async function fail(t: Api, email: string, times: number, headers: Record<string, string> = {}) {
  for (let i = 0; i < times; i++) {
    const res = await login(t, email, 'not the password', headers)
    expect(res.status, `attempt ${i + 1} for ${email}: ${await res.text()}`).toBe(401)
  }
}

/**
 * The same api (database, site, staff) with a Redis that is not there: a fail-fast client (as
 * runtime/redis.ts makes them) on a loopback port nothing listens on.
 */
function withRedisDown(t: Api) {
  const down = createRedis('redis://127.0.0.1:1', { commandTimeoutMs: 800 })
  down.on('error', () => {})
  onTestFinished(() => {
    down.disconnect()
  })
  return createApp({ ...t.services, redis: down })
}

async function sessionsOf(t: Api, staffId: string): Promise<number> {
  const rows = await t.db.select().from(staffSessions).where(eq(staffSessions.staffId, staffId))
  return rows.length
}

describe('sign-in limit', () => {
  it('states its limits as constants', () => {
    expect(LOGIN_LIMITS).toEqual({
      windowMs: 15 * 60_000,
      perEmail: 10,
      perEmailEverywhere: 100,
      perIp: 50,
    })
  })

  it('answers 429 with Retry-After after 10 failures for an email, even to the right password', async () => {
    const t = await adminApi()
    await fail(t, 'admin@shop.example', LOGIN_LIMITS.perEmail)
    for (const password of ['not the password', PASSWORD]) {
      const res = await login(t, 'Admin@Shop.example', password)
      const body = (await res.json()) as { error: { code: string; message: string } }
      expect(res.status, JSON.stringify(body)).toBe(429)
      expect(body.error.code).toBe('RATE_LIMITED')
      expect(body.error.message).toBe(
        'Too many wrong passwords for this email. Please wait 15 minutes and try again.',
      )
      const retryAfter = Number(res.headers.get('retry-after'))
      expect(retryAfter).toBeGreaterThan(15 * 60 - 60)
      expect(retryAfter).toBeLessThanOrEqual(15 * 60)
    }
    // An email without an account is counted and refused exactly the same way.
    await fail(t, 'nobody@shop.example', LOGIN_LIMITS.perEmail)
    const unknown = await login(t, 'nobody@shop.example', 'x')
    expect(unknown.status).toBe(429)
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain(
      'for this email',
    )
    // Other emails are not affected; the counts live under the test's prefix in Redis.
    const other = await login(t, 'admin@other.example', PASSWORD)
    expect(other.status).toBe(200)
    const keys = loginKeys(t.prefix)
    expect(await t.redis.zcard(keys.email('admin@shop.example'))).toBe(LOGIN_LIMITS.perEmail)
    expect(await t.redis.pttl(keys.email('admin@shop.example'))).toBeGreaterThan(14 * 60_000)
  })

  it('resets an email’s count on a successful sign-in', async () => {
    const t = await adminApi()
    await fail(t, 'admin@shop.example', LOGIN_LIMITS.perEmail - 1)
    expect((await login(t, 'admin@shop.example', PASSWORD)).status).toBe(200)
    // The full allowance again: without the reset the second of these would be refused.
    await fail(t, 'admin@shop.example', LOGIN_LIMITS.perEmail)
    expect((await login(t, 'admin@shop.example', PASSWORD)).status).toBe(429)
  })

  it('does not let a stranger lock a member out from another address, up to 100 everywhere', async () => {
    const t = await adminApi({ NUDGE_TRUST_PROXY: 'true' })
    const from = (ip: string) => ({ 'x-forwarded-for': ip })
    await fail(t, 'admin@shop.example', LOGIN_LIMITS.perEmail, from('203.0.113.66'))
    expect((await login(t, 'admin@shop.example', PASSWORD, from('203.0.113.66'))).status).toBe(429)
    // The member, elsewhere, signs in.
    expect((await login(t, 'admin@shop.example', PASSWORD, from('198.51.100.2'))).status).toBe(200)
    // Guesses spread over many addresses still stop at 100 for the email (no scrypt needed to
    // count them: the limiter alone).
    const limiter = createLoginLimiter(t.redis, t.prefix)
    for (let i = 0; i < LOGIN_LIMITS.perEmailEverywhere; i++) {
      expect((await limiter.take('member@shop.example', `192.0.2.${i % 250}`)).ok).toBe(true)
    }
    const refused = await limiter.take('member@shop.example', '198.51.100.77')
    expect(refused).toMatchObject({ ok: false, over: 'email' })
  })

  it('answers 429 after 50 failures from one IP, whatever the emails; other IPs go on', async () => {
    const t = await adminApi({ NUDGE_TRUST_PROXY: 'true' })
    const from = (ip: string) => ({ 'x-forwarded-for': ip })
    for (let n = 0; n < LOGIN_LIMITS.perIp / LOGIN_LIMITS.perEmail; n++) {
      await fail(t, `guess${n}@shop.example`, LOGIN_LIMITS.perEmail, from('203.0.113.7'))
    }
    // Writing another address in front does not get a fresh allowance: the proxy's is the last.
    const spoofed = from(`10.9.8.${Math.floor(Math.random() * 250)}, 203.0.113.7`)
    const blocked = await login(t, 'admin@shop.example', PASSWORD, spoofed)
    const body = (await blocked.json()) as { error: { message: string } }
    expect(blocked.status, JSON.stringify(body)).toBe(429)
    expect(body.error.message).toContain('from your network address')
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await login(t, 'admin@shop.example', PASSWORD, from('198.51.100.2'))).status).toBe(200)
    // Successful sign-ins do not use up an IP's allowance.
    const office = from('192.0.2.10')
    for (let i = 0; i < LOGIN_LIMITS.perIp + 5; i++) {
      const res = await login(t, 'admin@shop.example', PASSWORD, office)
      expect(res.status, `sign-in ${i + 1}`).toBe(200)
    }
  }, 60_000)

  it('fails closed: a fast 503 with Retry-After and no session while Redis does not answer', async () => {
    const t = await adminApi()
    const app = withRedisDown(t)
    const before = await sessionsOf(t, t.admin.staffId)
    const started = Date.now()
    const res = await app.request('/v1/admin/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@shop.example', password: PASSWORD }),
    })
    const elapsed = Date.now() - started
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(res.status, JSON.stringify(body)).toBe(503)
    expect(body.error.code).toBe('UNAVAILABLE')
    expect(body.error.message).toBe(
      'Passwords cannot be checked right now: the limit on wrong passwords is unavailable (Redis does not answer). Please try again in a moment.',
    )
    expect(res.headers.get('retry-after')).toBe('1')
    expect(res.headers.get('set-cookie')).toBeNull()
    // Refused before any scrypt work, and no session was made.
    expect(elapsed).toBeLessThan(1000)
    expect(await sessionsOf(t, t.admin.staffId)).toBe(before)

    // A password change checks the current password the same way: refused, nothing changed.
    const change = await app.request('/v1/admin/password', {
      method: 'POST',
      headers: { ...t.admin.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ currentPassword: PASSWORD, newPassword: 'a brand new passphrase' }),
    })
    expect(change.status, await change.clone().text()).toBe(503)
    expect(change.headers.get('retry-after')).toBe('1')
    expect((await login(t, 'admin@shop.example', PASSWORD)).status).toBe(200)

    // The console's sign-in page says so, with the same status and Retry-After.
    const page = await app.request('/console/sign-in', {
      method: 'POST',
      body: new URLSearchParams({ email: 'admin@shop.example', password: PASSWORD, next: '' }),
    })
    expect(page.status).toBe(503)
    expect(page.headers.get('retry-after')).toBe('1')
    expect(page.headers.get('set-cookie')).toBeNull()
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'")
    const text = await page.text()
    expect(text).toContain('Passwords cannot be checked right now')
    expect(text).not.toContain(PASSWORD)
    expect(await sessionsOf(t, t.admin.staffId)).toBe(before + 1)
  })

  it('does the same work for an unknown email as for a wrong password', async () => {
    const t = await adminApi()
    const time = async (email: string) => {
      const start = performance.now()
      const res = await login(t, email, 'not the password')
      expect(res.status).toBe(401)
      return performance.now() - start
    }
    await time('warm@shop.example')
    const known: number[] = []
    const unknown: number[] = []
    for (let i = 0; i < 4; i++) {
      known.push(await time('admin@shop.example'))
      unknown.push(await time(`who${i}@shop.example`))
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
    // Both pay for one scrypt check (tens of ms); skipping it would make "unknown" near-instant
    // (a ratio near 0.03). Generous bounds: CI machines are noisy, and this must not flake.
    expect(median(unknown) / median(known)).toBeGreaterThan(0.3)
    expect(median(unknown) / median(known)).toBeLessThan(4)
  })

  it('shows the limit on the console’s sign-in page, counting the visitor’s own address', async () => {
    const t = await adminApi()
    const { url } = await serveApp(t.app)
    const signInForm = (password: string) =>
      fetch(`${url}/console/sign-in`, {
        method: 'POST',
        redirect: 'manual',
        body: new URLSearchParams({ email: 'admin@shop.example', password, next: '' }),
      })
    for (let i = 0; i < LOGIN_LIMITS.perEmail; i++) {
      expect((await signInForm('not the password')).status).toBe(403)
    }
    const res = await signInForm(PASSWORD)
    expect(res.status).toBe(429)
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
    const page = await res.text()
    expect(page).toContain('Too many wrong passwords for this email. Please wait 15 minutes')
    expect(page).not.toContain(PASSWORD)
    // Counted under the real client address (loopback here), not one shared by every console user.
    const keys = loginKeys(t.prefix)
    const loopback = (await t.redis.keys(`${keys.ip('')}*`)).map((k) => k.slice(keys.ip('').length))
    expect(loopback).toHaveLength(1)
    expect(loopback[0]).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/)
  })
})
