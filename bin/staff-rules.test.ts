/** `nudge staff` and `nudge rules`: accounts that can sign in, tokens, and rules moved between sites. */
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { listRules } from '../drizzle/queries/rules'
import { createSite } from '../drizzle/queries/sites'
import { findStaffByEmail, findStaffByToken } from '../drizzle/queries/staff'
import { verifyPassword } from '../runtime/passwords'
import { testDb } from '../test/db'
import { EXAMPLE_RULES } from '../test/fixtures/rules'
import { runRulesCommand } from './rules'
import { runStaffCommand } from './staff'

async function setup() {
  const { db } = await testDb()
  const a = await createSite(db, { name: 'A', allowedOrigins: [] })
  const b = await createSite(db, { name: 'B', allowedOrigins: [] })
  const lines: string[] = []
  const out = (line: string) => lines.push(line)
  return { db, a: a.site.id, b: b.site.id, lines, out }
}

describe('nudge staff', () => {
  it('creates an account whose password verifies, refuses short passwords and duplicates, makes tokens', async () => {
    const { db, a, lines, out } = await setup()
    const staff = (argv: string[], password = 'a long passphrase') =>
      runStaffCommand(argv, { db, out, readPassword: async () => password })
    expect(
      await staff(['create', '--site', a, '--email', 'Me@Shop.example', '--role', 'editor']),
    ).toBe(0)
    const [account] = await findStaffByEmail(db, 'me@shop.example')
    expect(account).toMatchObject({ siteId: a, role: 'editor' })
    expect(await verifyPassword('a long passphrase', account?.passwordHash ?? '')).toBe(true)
    expect(await verifyPassword('a long passphrasf', account?.passwordHash ?? '')).toBe(false)
    expect(await staff(['create', '--site', a, '--email', 'me@shop.example'])).toBe(1)
    expect(await staff(['create', '--site', a, '--email', 'x@shop.example'], 'short')).toBe(2)
    expect(
      await staff(['create', '--site', a, '--email', 'y@shop.example', '--role', 'boss']),
    ).toBe(2)
    expect(await staff(['create', '--site', 'sit_nope', '--email', 'z@shop.example'])).toBe(1)
    lines.length = 0
    expect(await staff(['token', '--site', a, '--email', 'me@shop.example'])).toBe(0)
    expect((await findStaffByToken(db, lines[0] as string))?.email).toBe('me@shop.example')
  })
})

describe('nudge rules', () => {
  it('exports a site’s rules and imports them elsewhere as drafts, all or nothing', async () => {
    const { db, a, b, lines, out } = await setup()
    const { createRule } = await import('../drizzle/queries/rules')
    const { ruleInput } = await import('../streams/rules')
    for (const rule of Object.values(EXAMPLE_RULES)) {
      await createRule(db, {
        siteId: a,
        spec: ruleInput.parse(rule),
        status: 'active',
        actor: 'test',
      })
    }
    expect(await runRulesCommand(['export', '--site', a], { db, out })).toBe(0)
    const exported = lines.join('\n')
    const file = join(tmpdir(), `nudge-rules-${process.pid}-${Date.now()}.json`)
    await writeFile(file, exported)
    let announced = ''
    expect(
      await runRulesCommand(['import', file, '--site', b], {
        db,
        out,
        announce: async (site) => {
          announced = site
        },
      }),
    ).toBe(0)
    const imported = await listRules(db, b)
    expect(imported.map((r) => r.status)).toEqual(['draft', 'draft', 'draft', 'draft'])
    expect(imported.map((r) => r.spec.name).sort()).toEqual(
      Object.values(EXAMPLE_RULES)
        .map((r) => r.name)
        .sort(),
    )
    expect(announced).toBe(b)

    // One bad rule: each problem named, nothing imported.
    const bad = JSON.parse(exported)
    bad.rules[1].offer.cta.url = 'ftp://shop.example'
    await writeFile(file, JSON.stringify(bad))
    lines.length = 0
    expect(await runRulesCommand(['import', file, '--site', a, '--keep-status'], { db, out })).toBe(
      1,
    )
    expect(lines).toContain('rules[1] offer.cta.url: expected a full http:// or https:// address')
    expect(await listRules(db, a)).toHaveLength(4)
  })
})
