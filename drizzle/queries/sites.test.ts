import { createHash } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { testDb } from '../../test/db'
import {
  addOrigin,
  countSites,
  createSite,
  DEMO_SITE_NAME,
  ensureDemoSite,
  findSite,
  findSiteBySecret,
  findSiteByWriteKey,
  listSites,
  removeOrigin,
  rotateKeys,
} from './sites'

describe('createSite', () => {
  it('makes prefixed id and keys, normalises origins and stores only the hash of the secret', async () => {
    const { db } = await testDb()
    const before = Date.now()
    const { site, writeKey, secret } = await createSite(db, {
      name: 'Shop',
      allowedOrigins: [
        'https://Shop.example.com/',
        'https://shop.example.com',
        'http://localhost:*',
      ],
    })
    expect(site.id).toMatch(/^sit_[0-9a-z]{26}$/)
    expect(writeKey).toMatch(/^wk_[A-Za-z0-9_-]{24}$/)
    expect(secret).toMatch(/^sk_[A-Za-z0-9_-]{32}$/)
    expect(site).toEqual({
      id: site.id,
      name: 'Shop',
      writeKey,
      allowedOrigins: ['https://shop.example.com', 'http://localhost:*'],
      createdAt: expect.any(Date),
      halfLifeHours: null,
    })
    expect(site.createdAt.getTime()).toBeGreaterThanOrEqual(before - 5_000)

    const rows = await db.execute<Record<string, unknown>>(sql`select * from sites`)
    expect(rows.rows).toHaveLength(1)
    const stored = Object.values(rows.rows[0] ?? {}).map(String)
    expect(stored).not.toContain(secret)
    expect(stored).toContain(createHash('sha256').update(secret).digest('hex'))
  })

  it('uses the keys it is given and refuses a write key already in use', async () => {
    const { db } = await testDb()
    const made = await createSite(db, {
      name: 'Fixed',
      allowedOrigins: [],
      writeKey: 'wk_fixed',
      secret: 'sk_fixed',
    })
    expect(made.writeKey).toBe('wk_fixed')
    expect(made.secret).toBe('sk_fixed')
    expect(made.site.allowedOrigins).toEqual([])
    await expect(
      createSite(db, { name: 'Again', allowedOrigins: [], writeKey: 'wk_fixed' }),
    ).rejects.toThrow()
    expect(await countSites(db)).toBe(1)
  })

  it('throws on an origin that is not a pattern, naming the problem', async () => {
    const { db } = await testDb()
    await expect(
      createSite(db, { name: 'Bad', allowedOrigins: ['https://shop.example.com/cart'] }),
    ).rejects.toThrow(/has a path/)
    expect(await countSites(db)).toBe(0)
  })
})

describe('lookups', () => {
  it('finds a site by write key and by secret, and nothing by anything else', async () => {
    const { db } = await testDb()
    const made = await createSite(db, { name: 'Shop', allowedOrigins: [] })
    await createSite(db, { name: 'Other', allowedOrigins: [] })

    expect(await findSiteByWriteKey(db, made.writeKey)).toEqual(made.site)
    expect(await findSiteBySecret(db, made.secret)).toEqual(made.site)
    expect(await findSite(db, made.site.id)).toEqual(made.site)
    expect(await findSite(db, made.writeKey)).toEqual(made.site)

    expect(await findSiteByWriteKey(db, made.secret)).toBeUndefined()
    expect(await findSiteBySecret(db, made.writeKey)).toBeUndefined()
    expect(await findSiteBySecret(db, `${made.secret}x`)).toBeUndefined()
    expect(await findSiteByWriteKey(db, 'wk_unknown')).toBeUndefined()
    expect(await findSite(db, 'sit_unknown')).toBeUndefined()
  })

  it('never returns the secret hash', async () => {
    const { db } = await testDb()
    const made = await createSite(db, { name: 'Shop', allowedOrigins: [] })
    const found = await findSiteBySecret(db, made.secret)
    expect(Object.keys(found ?? {}).sort()).toEqual([
      'allowedOrigins',
      'createdAt',
      'halfLifeHours',
      'id',
      'name',
      'writeKey',
    ])
  })

  it('lists oldest first and counts', async () => {
    const { db } = await testDb()
    expect(await listSites(db)).toEqual([])
    expect(await countSites(db)).toBe(0)
    const names = ['First', 'Second', 'Third']
    for (const name of names) {
      await createSite(db, { name, allowedOrigins: [] })
    }
    expect((await listSites(db)).map((s) => s.name)).toEqual(names)
    expect(await countSites(db)).toBe(3)
  })
})

describe('origins', () => {
  it('adds an origin once, by site id or write key', async () => {
    const { db } = await testDb()
    const { site, writeKey } = await createSite(db, { name: 'Shop', allowedOrigins: [] })

    const first = await addOrigin(db, site.id, 'https://shop.example.com')
    expect(first?.added).toBe(true)
    expect(first?.site.allowedOrigins).toEqual(['https://shop.example.com'])

    const again = await addOrigin(db, writeKey, 'HTTPS://shop.example.com:443')
    expect(again?.added).toBe(false)
    expect(again?.site.allowedOrigins).toEqual(['https://shop.example.com'])

    const second = await addOrigin(db, writeKey, 'http://localhost:*')
    expect(second?.site.allowedOrigins).toEqual(['https://shop.example.com', 'http://localhost:*'])
  })

  it('adds concurrently without losing or duplicating an origin', async () => {
    const { db } = await testDb()
    const { site } = await createSite(db, { name: 'Shop', allowedOrigins: [] })
    const origins = Array.from({ length: 8 }, (_, i) => `https://s${i}.example.com`)
    await Promise.all([...origins, ...origins].map((o) => addOrigin(db, site.id, o)))
    const found = await findSite(db, site.id)
    expect(found?.allowedOrigins.slice().sort()).toEqual(origins.slice().sort())
  })

  it('removes an origin given in any spelling, and says when it was not there', async () => {
    const { db } = await testDb()
    const { site } = await createSite(db, {
      name: 'Shop',
      allowedOrigins: ['https://shop.example.com', 'http://localhost:*'],
    })
    const removed = await removeOrigin(db, site.id, 'https://SHOP.example.com/')
    expect(removed?.removed).toBe(true)
    expect(removed?.site.allowedOrigins).toEqual(['http://localhost:*'])

    const absent = await removeOrigin(db, site.id, 'https://shop.example.com')
    expect(absent?.removed).toBe(false)
    expect(absent?.site.allowedOrigins).toEqual(['http://localhost:*'])
  })

  it('answers undefined for an unknown site and throws on a bad pattern', async () => {
    const { db } = await testDb()
    const { site } = await createSite(db, { name: 'Shop', allowedOrigins: [] })
    expect(await addOrigin(db, 'sit_unknown', 'https://shop.example.com')).toBeUndefined()
    expect(await removeOrigin(db, 'wk_unknown', 'https://shop.example.com')).toBeUndefined()
    await expect(addOrigin(db, site.id, 'ftp://shop.example.com')).rejects.toThrow(/http/)
    await expect(removeOrigin(db, site.id, 'shop.example.com')).rejects.toThrow(/scheme/)
  })
})

describe('rotateKeys', () => {
  it('replaces both keys: the old ones stop working, the new ones work', async () => {
    const { db } = await testDb()
    const old = await createSite(db, { name: 'Shop', allowedOrigins: ['http://localhost:*'] })
    const other = await createSite(db, { name: 'Other', allowedOrigins: [] })

    const rotated = await rotateKeys(db, old.writeKey)
    expect(rotated?.site.id).toBe(old.site.id)
    expect(rotated?.writeKey).not.toBe(old.writeKey)
    expect(rotated?.secret).not.toBe(old.secret)
    expect(rotated?.site.allowedOrigins).toEqual(['http://localhost:*'])

    expect(await findSiteByWriteKey(db, old.writeKey)).toBeUndefined()
    expect(await findSiteBySecret(db, old.secret)).toBeUndefined()
    expect((await findSiteByWriteKey(db, rotated?.writeKey ?? ''))?.id).toBe(old.site.id)
    expect((await findSiteBySecret(db, rotated?.secret ?? ''))?.id).toBe(old.site.id)
    expect(await findSiteBySecret(db, other.secret)).toEqual(other.site)

    expect(await rotateKeys(db, 'sit_unknown')).toBeUndefined()
  })
})

describe('ensureDemoSite', () => {
  it('creates the demo store on an empty table only', async () => {
    const { db } = await testDb()
    const demo = await ensureDemoSite(db, {})
    if (!demo.created) {
      throw new Error('expected the demo site to be created')
    }
    expect(demo.site.name).toBe(DEMO_SITE_NAME)
    expect(demo.site.allowedOrigins).toEqual(['http://localhost:*', 'http://127.0.0.1:*'])
    expect((await findSiteBySecret(db, demo.secret))?.id).toBe(demo.site.id)
    expect(await ensureDemoSite(db, {})).toEqual({ created: false })
    expect(await countSites(db)).toBe(1)
  })

  it('uses the configured keys', async () => {
    const { db } = await testDb()
    const demo = await ensureDemoSite(db, { writeKey: 'wk_demo', secret: 'sk_demo' })
    expect(demo).toMatchObject({ created: true, writeKey: 'wk_demo', secret: 'sk_demo' })
    expect((await findSiteBySecret(db, 'sk_demo'))?.writeKey).toBe('wk_demo')
  })

  it('does nothing when another site exists', async () => {
    const { db } = await testDb()
    await createSite(db, { name: 'Real store', allowedOrigins: [] })
    expect(await ensureDemoSite(db, {})).toEqual({ created: false })
    expect((await listSites(db)).map((s) => s.name)).toEqual(['Real store'])
  })

  it('creates exactly one site when called concurrently', async () => {
    const { db } = await testDb()
    const results = await Promise.all(Array.from({ length: 6 }, () => ensureDemoSite(db, {})))
    expect(results.filter((r) => r.created)).toHaveLength(1)
    expect(await countSites(db)).toBe(1)
  })
})

describe('isolation', () => {
  it('gives each test database its own sites', async () => {
    const a = await testDb()
    const b = await testDb()
    expect(a.schema).not.toBe(b.schema)
    const made = await createSite(a.db, { name: 'Only in A', allowedOrigins: [] })
    expect(await countSites(a.db)).toBe(1)
    expect(await countSites(b.db)).toBe(0)
    expect(await findSiteByWriteKey(b.db, made.writeKey)).toBeUndefined()
  })
})
