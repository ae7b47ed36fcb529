import { describe, expect, it } from 'vitest'
import { testDb } from '../../test/db'
import { createSite } from './sites'
import { createSessionFor, createStaff, findSession, setPassword } from './staff'

describe('sign-in sessions', () => {
  it('are made only while the password checked is still the member’s', async () => {
    const { db } = await testDb()
    const { site } = await createSite(db, { name: 'Shop', allowedOrigins: [] })
    const member = await createStaff(db, {
      siteId: site.id,
      email: 'ann@shop.example',
      passwordHash: 'hash-old',
      role: 'admin',
    })
    const before = await createSessionFor(db, member.id, 'hash-old', 60_000)
    expect(before && (await findSession(db, before.id))?.email).toBe('ann@shop.example')
    // A password change lands between this sign-in's check and its session: no session.
    await setPassword(db, member.id, 'hash-new', undefined)
    expect(await createSessionFor(db, member.id, 'hash-old', 60_000)).toBeUndefined()
    expect(await createSessionFor(db, member.id, 'hash-new', 60_000)).toBeDefined()
  })
})
