import { describe, expect, it } from 'vitest'
import type { Db } from '../drizzle/client'
import {
  countSites,
  createSite,
  findSite,
  findSiteBySecret,
  findSiteByWriteKey,
} from '../drizzle/queries/sites'
import { testDb } from '../test/db'
import { runSitesCommand, SITES_USAGE } from './sites'

async function sites(db: Db, ...args: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = []
  const code = await runSitesCommand(args, { db, out: (line) => lines.push(line) })
  return { code, text: lines.join('\n') }
}

function field(text: string, label: string): string {
  const match = new RegExp(`${label}:\\s+(\\S+)`).exec(text)
  if (!match?.[1]) {
    throw new Error(`no "${label}" in output:\n${text}`)
  }
  return match[1]
}

describe('nudge sites create', () => {
  it('creates a site and prints its id, write key and secret once', async () => {
    const { db } = await testDb()
    const { code, text } = await sites(
      db,
      'create',
      '--name',
      'Shoe shop',
      '--origin',
      'https://shoes.example.com',
      '--origin=http://localhost:*',
    )
    expect(code, text).toBe(0)
    expect(text).toMatch(/Created site sit_\S+ "Shoe shop"/)
    expect(text).toContain('shown only this once')
    const writeKey = field(text, 'write key')
    const secret = field(text, 'secret')
    const site = await findSiteByWriteKey(db, writeKey)
    expect(site?.name).toBe('Shoe shop')
    expect(site?.allowedOrigins).toEqual(['https://shoes.example.com', 'http://localhost:*'])
    expect((await findSiteBySecret(db, secret))?.id).toBe(site?.id)
    expect(text).toContain(site?.id)
  })

  it('prints JSON with --json', async () => {
    const { db } = await testDb()
    const { code, text } = await sites(db, 'create', '--name', 'Shop', '--json')
    expect(code, text).toBe(0)
    const made = JSON.parse(text) as { site: { id: string }; writeKey: string; secret: string }
    expect((await findSiteBySecret(db, made.secret))?.id).toBe(made.site.id)
    expect((await findSiteByWriteKey(db, made.writeKey))?.id).toBe(made.site.id)
  })

  it('warns that * is for development only', async () => {
    const { db } = await testDb()
    const { code, text } = await sites(db, 'create', '--name', 'Dev', '--origin', '*')
    expect(code, text).toBe(0)
    expect(text).toContain('development only')
  })

  it.each([
    [['create'], 'create needs --name'],
    [['create', '--name', '  '], 'create needs --name'],
    [['create', '--name'], "create: Option '--name <value>' argument missing"],
    [['create', '--name', 'x'.repeat(201)], 'longer than 200'],
    [
      ['create', '--name', 'Shop', '--bogus'],
      'unknown option --bogus for create; it accepts --name, --origin, --json, --help',
    ],
    [['list', '--name', 'Shop'], 'unknown option --name for list; it accepts --json, --help'],
    [['create', '--name', 'Shop', 'extra'], 'create takes no arguments, got "extra"'],
    [['create', '--name', 'Shop', '--origin', 'https://shop.example.com/cart'], 'has a path'],
    [['create', '--name', 'Shop', '--origin', 'shop.example.com'], 'no scheme'],
  ])('refuses %j with exit code 2, saying %s', async (args, message) => {
    const { db } = await testDb()
    const { code, text } = await sites(db, ...args)
    expect(code, text).toBe(2)
    expect(text).toContain(message)
    expect(text).toContain(SITES_USAGE)
    expect(await countSites(db)).toBe(0)
  })
})

describe('nudge sites list', () => {
  it('says how to start when there are no sites', async () => {
    const { db } = await testDb()
    const { code, text } = await sites(db, 'list')
    expect(code, text).toBe(0)
    expect(text).toContain('No sites yet')
  })

  it('shows id, name, write key, origins and creation time of every site', async () => {
    const { db } = await testDb()
    const a = await createSite(db, { name: 'Alpha', allowedOrigins: ['https://a.example.com'] })
    const b = await createSite(db, { name: 'Beta', allowedOrigins: [] })
    const { code, text } = await sites(db, 'list')
    expect(code, text).toBe(0)
    const [header, first, second] = text.split('\n')
    expect(header).toMatch(/^ID\s+NAME\s+WRITE KEY\s+ORIGINS\s+CREATED$/)
    expect(first).toContain(a.site.id)
    expect(first).toContain('Alpha')
    expect(first).toContain(a.writeKey)
    expect(first).toContain('https://a.example.com')
    expect(first).toContain(a.site.createdAt.toISOString().slice(0, 19))
    expect(second).toContain(b.site.id)
    expect(second).toContain('(none)')
    expect(text).not.toContain(a.secret)
  })

  it('prints JSON with --json, before or after the command', async () => {
    const { db } = await testDb()
    const made = await createSite(db, { name: 'Alpha', allowedOrigins: [] })
    for (const args of [
      ['list', '--json'],
      ['--json', 'list'],
    ]) {
      const { code, text } = await sites(db, ...args)
      expect(code, text).toBe(0)
      const parsed = JSON.parse(text) as { sites: { id: string; writeKey: string }[] }
      expect(parsed.sites.map((s) => [s.id, s.writeKey])).toEqual([[made.site.id, made.writeKey]])
    }
  })
})

describe('nudge sites add-origin / remove-origin', () => {
  it('adds by site id and removes by write key', async () => {
    const { db } = await testDb()
    const { site, writeKey } = await createSite(db, { name: 'Shop', allowedOrigins: [] })

    const added = await sites(db, 'add-origin', site.id, 'https://Shop.example.com')
    expect(added.code, added.text).toBe(0)
    expect(added.text).toContain('now allows https://shop.example.com')
    expect((await findSite(db, site.id))?.allowedOrigins).toEqual(['https://shop.example.com'])

    const again = await sites(db, 'add-origin', writeKey, 'https://shop.example.com')
    expect(again.code, again.text).toBe(0)
    expect(again.text).toContain('already allows')

    const removed = await sites(db, 'remove-origin', writeKey, 'https://shop.example.com')
    expect(removed.code, removed.text).toBe(0)
    expect(removed.text).toContain('no longer allows https://shop.example.com')
    expect((await findSite(db, site.id))?.allowedOrigins).toEqual([])
  })

  it('exits 1 when the origin to remove is not there, listing the ones that are', async () => {
    const { db } = await testDb()
    const { site } = await createSite(db, {
      name: 'Shop',
      allowedOrigins: ['https://shop.example.com'],
    })
    const { code, text } = await sites(db, 'remove-origin', site.id, 'https://shop.example.org')
    expect(code, text).toBe(1)
    expect(text).toContain('does not allow https://shop.example.org')
    expect(text).toContain('https://shop.example.com')
    expect((await findSite(db, site.id))?.allowedOrigins).toEqual(['https://shop.example.com'])
  })

  it('exits 1 for an unknown site, naming it', async () => {
    const { db } = await testDb()
    for (const command of ['add-origin', 'remove-origin']) {
      const { code, text } = await sites(db, command, 'sit_nope', 'https://shop.example.com')
      expect(code, text).toBe(1)
      expect(text).toContain('"sit_nope"')
    }
  })

  it.each([
    [['add-origin', 'SITE', 'ftp://shop.example.com'], 'only http:// and https://'],
    [['add-origin', 'SITE', 'https://u:p@shop.example.com'], 'credentials'],
    [['remove-origin', 'SITE', 'https://shop.example.com?x=1'], 'a query'],
    [['add-origin', 'SITE'], 'add-origin takes <siteId|writeKey> <origin>, got "SITE"'],
    [['remove-origin'], 'remove-origin takes <siteId|writeKey> <origin>, got none'],
  ])('refuses %j with exit code 2, saying %s', async (template, message) => {
    const { db } = await testDb()
    const { site } = await createSite(db, { name: 'Shop', allowedOrigins: [] })
    const args = template.map((arg) => (arg === 'SITE' ? site.id : arg))
    const { code, text } = await sites(db, ...args)
    expect(code, text).toBe(2)
    expect(text).toContain(message.replace('SITE', site.id))
    expect(text).toContain('Usage: nudge sites')
    expect((await findSite(db, site.id))?.allowedOrigins).toEqual([])
  })
})

describe('nudge sites rotate-keys', () => {
  it('prints new keys; the old ones stop working', async () => {
    const { db } = await testDb()
    const old = await createSite(db, { name: 'Shop', allowedOrigins: [] })
    const { code, text } = await sites(db, 'rotate-keys', old.writeKey)
    expect(code, text).toBe(0)
    const writeKey = field(text, 'write key')
    const secret = field(text, 'secret')
    expect(writeKey).not.toBe(old.writeKey)
    expect((await findSiteByWriteKey(db, writeKey))?.id).toBe(old.site.id)
    expect((await findSiteBySecret(db, secret))?.id).toBe(old.site.id)
    expect(await findSiteByWriteKey(db, old.writeKey)).toBeUndefined()
    expect(await findSiteBySecret(db, old.secret)).toBeUndefined()
  })

  it('exits 1 for an unknown site and 2 without one', async () => {
    const { db } = await testDb()
    const unknown = await sites(db, 'rotate-keys', 'wk_nope')
    expect(unknown.code, unknown.text).toBe(1)
    expect(unknown.text).toContain('"wk_nope"')
    const missing = await sites(db, 'rotate-keys')
    expect(missing.code, missing.text).toBe(2)
  })
})

describe('nudge sites (general)', () => {
  it('prints usage for help, --help and -h', async () => {
    const { db } = await testDb()
    for (const args of [['help'], ['--help'], ['list', '-h']]) {
      const { code, text } = await sites(db, ...args)
      expect(code, text).toBe(0)
      expect(text).toBe(SITES_USAGE)
    }
  })

  it('exits 2 naming an unknown or missing command', async () => {
    const { db } = await testDb()
    const unknown = await sites(db, 'delete', 'sit_x')
    expect(unknown.code, unknown.text).toBe(2)
    expect(unknown.text).toContain('unknown command "delete"')
    expect(unknown.text).toContain(SITES_USAGE)
    const inherited = await sites(db, 'constructor')
    expect(inherited.code, inherited.text).toBe(2)
    expect(inherited.text).toContain('unknown command "constructor"')
    const missing = await sites(db)
    expect(missing.code, missing.text).toBe(2)
    expect(missing.text).toContain('a command is required')
  })

  it('reports errors as JSON under --json', async () => {
    const { db } = await testDb()
    const usage = await sites(db, 'add-origin', 'sit_x', 'nope', '--json')
    expect(usage.code, usage.text).toBe(2)
    expect(JSON.parse(usage.text)).toMatchObject({ error: { code: 'usage' } })
    const missing = await sites(db, 'rotate-keys', 'sit_x', '--json')
    expect(missing.code, missing.text).toBe(1)
    expect(JSON.parse(missing.text)).toMatchObject({ error: { code: 'not_found' } })
  })
})
