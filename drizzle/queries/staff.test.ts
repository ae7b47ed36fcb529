import { describe, expect, it } from 'vitest'
import { testDb, testPglite } from '../../test/db'
import type { Db } from '../client'
import { createSite } from './sites'
import { createSession, createSessionFor, createStaff, findSession, setPassword } from './staff'
import {
  createStaffToken,
  listStaffTokens,
  revokeStaffToken,
  verifyStaffToken,
} from './staff-tokens'

async function member(db: Db, email = 'ann@shop.example') {
  const { site } = await createSite(db, { name: 'Shop', allowedOrigins: [] })
  return createStaff(db, { siteId: site.id, email, passwordHash: 'hash-old', role: 'admin' })
}

describe('sign-in sessions', () => {
  it('are made only while the password checked is still the member’s', async () => {
    const { db } = await testDb()
    const ann = await member(db)
    const before = await createSessionFor(db, ann.id, 'hash-old', 60_000)
    expect(before && (await findSession(db, before.id))?.email).toBe('ann@shop.example')
    // A password change lands between this sign-in's check and its session: no session.
    await setPassword(db, {
      staffId: ann.id,
      passwordHash: 'hash-new',
      currentSessionId: undefined,
      ttlMs: 60_000,
      revokeTokens: false,
    })
    expect(await createSessionFor(db, ann.id, 'hash-old', 60_000)).toBeUndefined()
    expect(await createSessionFor(db, ann.id, 'hash-new', 60_000)).toBeDefined()
  })
})

describe('setPassword', () => {
  for (const [name, open] of [
    ['PostgreSQL', testDb],
    ['PGlite', testPglite],
  ] as const) {
    it(`replaces the changing session, ends the others, and revokes live tokens only when asked (${name})`, async () => {
      const { db } = await open()
      const ann = await member(db)
      const bob = await member(db, 'bob@shop.example')
      const laptop = await createSession(db, ann.id, 60_000)
      const phone = await createSession(db, ann.id, 60_000)
      const bobs = await createSession(db, bob.id, 60_000)
      const script = await createStaffToken(db, { staffId: ann.id, name: 'script' })
      const old = await createStaffToken(db, {
        staffId: ann.id,
        name: 'old',
        expiresInDays: 1,
        now: new Date(Date.now() - 2 * 86_400_000),
      })
      const gone = await createStaffToken(db, { staffId: ann.id, name: 'gone' })
      await revokeStaffToken(db, { siteId: ann.siteId, id: gone.id })
      const bobsToken = await createStaffToken(db, { staffId: bob.id, name: 'bob' })

      // An expired session is cleared too, but nobody was signed in there: not counted.
      await createSession(db, ann.id, -60_000)

      const kept = await setPassword(db, {
        staffId: ann.id,
        passwordHash: 'hash-2',
        currentSessionId: laptop.id,
        ttlMs: 60_000,
        revokeTokens: false,
      })
      expect(kept).toMatchObject({ otherSessionsEnded: 1, revokedTokenIds: [] })
      const fresh = kept.session
      expect(fresh?.id).not.toBe(laptop.id)
      expect(fresh?.csrfToken).not.toBe(laptop.csrfToken)
      expect(await findSession(db, laptop.id)).toBeUndefined()
      expect(await findSession(db, phone.id)).toBeUndefined()
      expect((await findSession(db, fresh?.id ?? ''))?.email).toBe('ann@shop.example')
      expect(await findSession(db, bobs.id)).toBeDefined()
      expect((await verifyStaffToken(db, script.token)).ok).toBe(true)

      const cut = await setPassword(db, {
        staffId: ann.id,
        passwordHash: 'hash-3',
        currentSessionId: fresh?.id,
        ttlMs: 60_000,
        revokeTokens: true,
      })
      // Only the token that still worked is revoked; the expired and the revoked keep their state.
      expect(cut).toMatchObject({ otherSessionsEnded: 0, revokedTokenIds: [script.id] })
      expect(await verifyStaffToken(db, script.token)).toMatchObject({ reason: 'revoked' })
      expect(await verifyStaffToken(db, old.token)).toMatchObject({ reason: 'expired' })
      expect((await verifyStaffToken(db, bobsToken.token)).ok).toBe(true)
      const listed = await listStaffTokens(db, { siteId: ann.siteId, staffId: ann.id })
      expect(listed.find((t) => t.id === old.id)?.revokedAt).toBeNull()

      // A change made with an API token (no session of its own) ends every session, makes none.
      const byToken = await setPassword(db, {
        staffId: ann.id,
        passwordHash: 'hash-4',
        currentSessionId: undefined,
        ttlMs: 60_000,
        revokeTokens: false,
      })
      expect(byToken).toEqual({ otherSessionsEnded: 1, revokedTokenIds: [] })
      expect(await findSession(db, cut.session?.id ?? '')).toBeUndefined()
    })
  }
})
