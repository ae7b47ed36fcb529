/**
 * `nudge sites` keeps each site's secret sealed for userHash checks: create, rotate-keys and
 * rotate-secret store it sealed under the install's key; rotate-secret keeps the write key.
 */
import { describe, expect, it } from 'vitest'
import { findSealedSecret, findSiteBySecret } from '../drizzle/queries/sites'
import { createSecretBox } from '../runtime/secret-box'
import { deriveServerKeys } from '../runtime/secret-key'
import { testDb } from '../test/db'
import { runSitesCommand } from './sites'

const box = createSecretBox(deriveServerKeys(Buffer.alloc(32, 3)).seal)

async function sites(db: Awaited<ReturnType<typeof testDb>>['db'], ...args: string[]) {
  const lines: string[] = []
  const code = await runSitesCommand([...args, '--json'], { db, box, out: (l) => lines.push(l) })
  return { code, body: JSON.parse(lines.join('\n')) }
}

describe('nudge sites: sealed secrets', () => {
  it('create, rotate-keys and rotate-secret seal the secret shown', async () => {
    const { db } = await testDb()
    const made = await sites(db, 'create', '--name', 'Shop')
    expect(made.code).toBe(0)
    const id = made.body.site.id
    const open = async () => box.open((await findSealedSecret(db, id)) ?? '', id)
    expect(await open()).toBe(made.body.secret)

    const rotated = await sites(db, 'rotate-secret', id)
    expect(rotated.code).toBe(0)
    expect(rotated.body.writeKey).toBe(made.body.writeKey)
    expect(rotated.body.secret).not.toBe(made.body.secret)
    expect(await open()).toBe(rotated.body.secret)
    expect(await findSiteBySecret(db, made.body.secret)).toBeUndefined()
    expect((await findSiteBySecret(db, rotated.body.secret))?.id).toBe(id)

    const keys = await sites(db, 'rotate-keys', made.body.writeKey)
    expect(keys.body.writeKey).not.toBe(made.body.writeKey)
    expect(await open()).toBe(keys.body.secret)

    expect((await sites(db, 'rotate-secret', 'sit_nope')).code).toBe(1)
  })
})
