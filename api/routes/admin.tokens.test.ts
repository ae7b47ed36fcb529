/**
 * Staff API tokens: made with an expiry, listed without their secret, revoked by id, refused
 * with the reason (expired, revoked, unknown) once they end, kept to their own site and owner,
 * last use noted at most once a minute, and every change audited.
 */
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { createStaffToken } from '../../drizzle/queries/staff-tokens'
import { staffTokens } from '../../drizzle/schema/offers'
import { adminApi, type Caller, signIn } from '../../test/admin'

type Made = { id: string; token: string; name: string; createdAt: string; expiresAt: string }
type Listed = {
  tokens: {
    id: string
    name: string
    email: string
    createdAt: string
    lastUsedAt: string | null
    expiresAt: string
    revokedAt: string | null
    state: string
  }[]
  expiresInDays: { default: number; min: number; max: number }
}

const DAY = 86_400_000

async function make(
  t: Awaited<ReturnType<typeof adminApi>>,
  caller: Caller,
  body: unknown,
): Promise<Made> {
  const res = await t.call(caller, 'POST', '/v1/admin/tokens', body)
  const text = await res.text()
  expect(res.status, text).toBe(201)
  return JSON.parse(text) as Made
}

const bearer = (token: string): Caller => ({
  headers: { authorization: `Bearer ${token}` },
  staffId: '',
})

async function errorOf(res: Response) {
  return ((await res.json()) as { error: { code: string; message: string } }).error
}

describe('staff API tokens', () => {
  it('live 90 days by default or as chosen (1–365), and refuse anything else in words', async () => {
    const t = await adminApi()
    const before = Date.now()
    const plain = await make(t, t.admin, { name: 'default' })
    expect(new Date(plain.expiresAt).getTime() - before).toBeGreaterThanOrEqual(90 * DAY - 1000)
    expect(new Date(plain.expiresAt).getTime() - before).toBeLessThan(90 * DAY + 60_000)
    const week = await make(t, t.admin, { name: 'week', expiresInDays: 7 })
    expect(new Date(week.expiresAt).getTime() - new Date(week.createdAt).getTime()).toBe(7 * DAY)
    expect(week.id).toMatch(/^tok_/)
    expect(week.token).toMatch(/^ntk_/)
    for (const expiresInDays of [0, 366, 1.5, '30', null]) {
      const res = await t.call(t.admin, 'POST', '/v1/admin/tokens', { name: 'x', expiresInDays })
      const body = (await res.json()) as { error: { issues: { field: string; reason: string }[] } }
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(body.error.issues[0]?.field).toBe('expiresInDays')
    }
    const noName = await t.call(t.admin, 'POST', '/v1/admin/tokens', { name: ' ' })
    expect(await noName.json()).toMatchObject({
      error: { issues: [{ field: 'name', reason: 'give the token a name' }] },
    })
    // The new token works at once, but cannot make tokens: a leaked short-lived token must not
    // mint itself a long-lived successor.
    expect((await t.call(bearer(week.token), 'GET', '/v1/admin/rules')).status).toBe(200)
    const minted = await t.call(bearer(week.token), 'POST', '/v1/admin/tokens', {
      name: 'successor',
      expiresInDays: 365,
    })
    expect(minted.status).toBe(403)
    expect(JSON.stringify(await minted.json())).toContain('cannot make tokens')
  })

  it('lists the caller’s own tokens (admins: the site’s) and never a secret', async () => {
    const t = await adminApi()
    const editor = await signIn(t, t.site.site.id, 'editor')
    const mine = await make(t, t.admin, { name: 'admin script', expiresInDays: 30 })
    const theirs = await make(t, editor, { name: 'editor script' })
    const otherSite = await make(t, t.otherAdmin, { name: 'elsewhere' })

    const own = await t.call(editor, 'GET', '/v1/admin/tokens')
    const ownText = await own.text()
    expect(own.status, ownText).toBe(200)
    const listed = JSON.parse(ownText) as Listed
    expect(listed.tokens.map((x) => x.name)).toEqual(['editor script'])
    expect(listed.tokens[0]).toEqual({
      id: theirs.id,
      name: 'editor script',
      staffId: editor.staffId,
      email: 'editor@shop.example',
      createdAt: theirs.createdAt,
      lastUsedAt: null,
      expiresAt: theirs.expiresAt,
      revokedAt: null,
      state: 'active',
    })
    expect(listed.expiresInDays).toEqual({ default: 90, min: 1, max: 365 })

    const refused = await t.call(editor, 'GET', '/v1/admin/tokens?all=true')
    expect(refused.status).toBe(403)
    const unclear = await t.call(t.admin, 'GET', '/v1/admin/tokens?all=yes')
    expect(await unclear.json()).toMatchObject({
      error: { issues: [{ field: 'all', reason: 'expected true or false' }] },
    })
    const all = await t.call(t.admin, 'GET', '/v1/admin/tokens?all=true')
    const allText = await all.text()
    expect((JSON.parse(allText) as Listed).tokens.map((x) => [x.name, x.email]).sort()).toEqual([
      ['admin script', 'admin@shop.example'],
      ['editor script', 'editor@shop.example'],
    ])
    const adminOwn = (await (await t.call(t.admin, 'GET', '/v1/admin/tokens')).json()) as Listed
    expect(adminOwn.tokens.map((x) => x.id)).toEqual([mine.id])
    for (const text of [ownText, allText, JSON.stringify(adminOwn)]) {
      for (const secret of [mine.token, theirs.token, otherSite.token]) {
        expect(text).not.toContain(secret)
      }
      expect(text).not.toContain('ntk_')
      expect(text).not.toMatch(/hash/i)
      expect(text).not.toContain('elsewhere')
    }
  })

  it('refuses a revoked, an expired and an unknown token with 401, saying which', async () => {
    const t = await adminApi()
    const revoked = await make(t, t.admin, { name: 'to revoke' })
    const caller = bearer(revoked.token)
    expect((await t.call(caller, 'GET', '/v1/admin/rules')).status).toBe(200)
    const del = await t.call(t.admin, 'DELETE', `/v1/admin/tokens/${revoked.id}`)
    expect(del.status, await del.text()).toBe(204)
    const afterRevoke = await t.call(caller, 'GET', '/v1/admin/rules')
    expect(afterRevoke.status).toBe(401)
    const revokedError = await errorOf(afterRevoke)
    expect(revokedError.code).toBe('UNAUTHORIZED')
    expect(revokedError.message).toMatch(/^This staff API token was revoked on \d{4}-/)
    // Revoking again changes nothing and is not audited twice.
    expect((await t.call(t.admin, 'DELETE', `/v1/admin/tokens/${revoked.id}`)).status).toBe(204)

    // Made (with the clock injected) two days ago for one day: it ended yesterday.
    const old = await createStaffToken(t.db, {
      staffId: t.admin.staffId,
      name: 'old',
      expiresInDays: 1,
      now: new Date(Date.now() - 2 * DAY),
    })
    const expired = await t.call(bearer(old.token), 'GET', '/v1/admin/rules')
    expect(expired.status).toBe(401)
    const expiredError = await errorOf(expired)
    expect(expiredError.message).toContain(`expired on ${old.expiresAt.toISOString()}`)

    // Expiry as it passes: a live token whose end is moved to a moment ago stops at once.
    const soon = await make(t, t.admin, { name: 'soon', expiresInDays: 1 })
    expect((await t.call(bearer(soon.token), 'GET', '/v1/admin/rules')).status).toBe(200)
    await t.db
      .update(staffTokens)
      .set({ expiresAt: new Date(Date.now() - 1) })
      .where(eq(staffTokens.id, soon.id))
    const ended = await t.call(bearer(soon.token), 'GET', '/v1/admin/rules')
    expect(ended.status).toBe(401)
    expect((await errorOf(ended)).message).toContain('expired on')

    const unknown = await t.call(bearer('ntk_nobody'), 'GET', '/v1/admin/rules')
    expect(unknown.status).toBe(401)
    expect((await errorOf(unknown)).message).toContain('does not hold a valid staff API token')
    // An id is not a token.
    const byId = await t.call(bearer(soon.id), 'GET', '/v1/admin/rules')
    expect((await errorOf(byId)).message).toContain('does not hold a valid staff API token')

    const listed = (await (await t.call(t.admin, 'GET', '/v1/admin/tokens')).json()) as Listed
    expect(Object.fromEntries(listed.tokens.map((x) => [x.name, x.state]))).toEqual({
      'to revoke': 'revoked',
      old: 'expired',
      soon: 'expired',
    })
    const audit = JSON.stringify(await (await t.call(t.admin, 'GET', '/v1/admin/audit')).json())
    expect(audit.match(/"token\.revoke"/g)).toHaveLength(1)
    expect(audit.match(/"token\.create"/g)).toHaveLength(2)
    expect(audit).toContain(`token:${revoked.id}`)
  })

  it('keeps tokens to their site and owner: another site’s or member’s id is not found', async () => {
    const t = await adminApi()
    const editor = await signIn(t, t.site.site.id, 'editor')
    const viewer = await signIn(t, t.site.site.id, 'viewer')
    const mine = await make(t, t.admin, { name: 'mine' })
    const editors = await make(t, editor, { name: 'editor’s' })

    for (const [caller, id] of [
      [t.otherAdmin, mine.id],
      [t.otherAdmin, editors.id],
      [viewer, editors.id],
      [editor, mine.id],
    ] as const) {
      const res = await t.call(caller, 'DELETE', `/v1/admin/tokens/${id}`)
      expect(res.status, await res.text()).toBe(404)
    }
    const nothing = await t.call(t.otherAdmin, 'DELETE', '/v1/admin/tokens/tok_nothing')
    const stranger = await t.call(t.otherAdmin, 'DELETE', `/v1/admin/tokens/${mine.id}`)
    // The same answer whether the id exists elsewhere or nowhere.
    expect((await errorOf(stranger)).message).toBe(
      (await errorOf(nothing)).message.replace('tok_nothing', mine.id),
    )
    for (const token of [mine.token, editors.token]) {
      expect((await t.call(bearer(token), 'GET', '/v1/admin/rules')).status).toBe(200)
    }
    // Another site's token reaches nothing of this site.
    const rule = await t.call(t.admin, 'POST', '/v1/admin/rules', {
      name: 'x',
      trigger: { event: 'PageViewed' },
      offer: { title: 't', body: 'b', cta: { label: 'l', url: 'https://shop.example' } },
    })
    const { id: ruleId } = (await rule.json()) as { id: string }
    const theirs = await make(t, t.otherAdmin, { name: 'theirs' })
    expect((await t.call(bearer(theirs.token), 'GET', `/v1/admin/rules/${ruleId}`)).status).toBe(
      404,
    )

    // A member revokes their own; an admin anyone's on the site.
    expect((await t.call(editor, 'DELETE', `/v1/admin/tokens/${editors.id}`)).status).toBe(204)
    expect((await t.call(t.admin, 'DELETE', `/v1/admin/tokens/${mine.id}`)).status).toBe(204)
    const another = await make(t, editor, { name: 'another' })
    expect((await t.call(t.admin, 'DELETE', `/v1/admin/tokens/${another.id}`)).status).toBe(204)
    expect((await t.call(bearer(another.token), 'GET', '/v1/admin/rules')).status).toBe(401)
  })

  it('notes the last use at most once a minute per token', async () => {
    const t = await adminApi()
    const made = await make(t, t.admin, { name: 'busy' })
    const lastUsed = async () =>
      (
        await t.db
          .select({ at: staffTokens.lastUsedAt })
          .from(staffTokens)
          .where(eq(staffTokens.id, made.id))
      )[0]?.at ?? null
    expect(await lastUsed()).toBeNull()
    expect((await t.call(bearer(made.token), 'GET', '/v1/admin/rules')).status).toBe(200)
    const first = await lastUsed()
    expect(first).not.toBeNull()
    for (let i = 0; i < 3; i++) {
      await t.call(bearer(made.token), 'GET', '/v1/admin/rules')
    }
    expect(await lastUsed()).toEqual(first)
    // A minute later (the stored use moved back), the next use is noted again.
    const aMinuteAgo = new Date(Date.now() - 61_000)
    await t.db
      .update(staffTokens)
      .set({ lastUsedAt: aMinuteAgo })
      .where(eq(staffTokens.id, made.id))
    await t.call(bearer(made.token), 'GET', '/v1/admin/rules')
    const again = await lastUsed()
    expect(again?.getTime()).toBeGreaterThan(aMinuteAgo.getTime() + 30_000)
    const listed = (await (await t.call(t.admin, 'GET', '/v1/admin/tokens')).json()) as Listed
    expect(listed.tokens[0]?.lastUsedAt).toBe(again?.toISOString())
  })
})
