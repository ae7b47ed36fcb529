/** `nudge staff` and `nudge rules`: accounts that can sign in, tokens, and rules moved between sites. */
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { listAudit, listRules } from '../drizzle/queries/rules'
import { createSite } from '../drizzle/queries/sites'
import { findStaffByEmail } from '../drizzle/queries/staff'
import { verifyStaffToken } from '../drizzle/queries/staff-tokens'
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
    // Longer than sign-in reads: it could be set, never used.
    expect(
      await staff(['create', '--site', a, '--email', 'x@shop.example'], 'x'.repeat(1025)),
    ).toBe(2)
    expect(
      await staff(['create', '--site', a, '--email', 'y@shop.example', '--role', 'boss']),
    ).toBe(2)
    expect(await staff(['create', '--site', 'sit_nope', '--email', 'z@shop.example'])).toBe(1)
    lines.length = 0
    expect(await staff(['token', '--site', a, '--email', 'me@shop.example'])).toBe(0)
    const check = await verifyStaffToken(db, lines[0] as string)
    expect(check.ok && check.staff.email).toBe('me@shop.example')
  })

  it('makes tokens with an expiry, lists them without the secret, and revokes them', async () => {
    const { db, a, b, lines, out } = await setup()
    const notes: string[] = []
    const staff = (argv: string[]) =>
      runStaffCommand(argv, {
        db,
        out,
        note: (line) => notes.push(line),
        readPassword: async () => 'a long passphrase',
      })
    expect(await staff(['create', '--site', a, '--email', 'me@shop.example'])).toBe(0)
    for (const days of ['0', '366', '1.5', 'soon']) {
      lines.length = 0
      expect(
        await staff([
          'token',
          '--site',
          a,
          '--email',
          'me@shop.example',
          '--expires-in-days',
          days,
        ]),
        days,
      ).toBe(2)
      expect(lines.join('\n')).toContain('--expires-in-days must be a whole number from 1 to 365')
    }
    lines.length = 0
    const before = Date.now()
    expect(
      await staff([
        'token',
        '--site',
        a,
        '--email',
        'me@shop.example',
        '--name',
        'nightly',
        '--expires-in-days',
        '7',
      ]),
    ).toBe(0)
    // stdout holds the token alone; its id and expiry are a note (stderr).
    expect(lines).toHaveLength(1)
    const token = lines[0] as string
    expect(token).toMatch(/^ntk_/)
    const id = /Token (tok_\S+)/.exec(notes.join('\n'))?.[1] as string
    expect(id).toBeDefined()

    lines.length = 0
    expect(await staff(['tokens', '--site', a, '--json'])).toBe(0)
    const listed = JSON.parse(lines.join('\n')) as {
      tokens: { id: string; name: string; email: string; expiresAt: string; state: string }[]
    }
    expect(listed.tokens).toHaveLength(1)
    expect(listed.tokens[0]).toMatchObject({
      id,
      name: 'nightly',
      email: 'me@shop.example',
      state: 'active',
    })
    const expires = new Date(listed.tokens[0]?.expiresAt as string).getTime()
    expect(expires - before).toBeGreaterThanOrEqual(7 * 86_400_000 - 1000)
    expect(expires - before).toBeLessThan(7 * 86_400_000 + 60_000)
    expect(lines.join('\n')).not.toContain(token)
    expect(lines.join('\n')).not.toContain('ntk_')

    // Another site cannot see or revoke it.
    lines.length = 0
    expect(await staff(['tokens', '--site', b])).toBe(0)
    expect(lines.join('\n')).toContain('No tokens')
    expect(await staff(['revoke', id, '--site', b])).toBe(1)
    expect((await verifyStaffToken(db, token)).ok).toBe(true)

    expect(await staff(['revoke', '--site', a])).toBe(2)
    expect(await staff(['revoke', id, '--site', a])).toBe(0)
    expect(await verifyStaffToken(db, token)).toMatchObject({ ok: false, reason: 'revoked' })
    lines.length = 0
    expect(await staff(['revoke', id, '--site', a])).toBe(0)
    expect(lines.join('\n')).toContain('already revoked')
    lines.length = 0
    expect(await staff(['tokens', '--site', a, '--email', 'me@shop.example'])).toBe(0)
    expect(lines.join('\n')).toMatch(new RegExp(`${id}\\s+revoked`))
    const audit = await listAudit(db, a, 10)
    expect(audit.map((e) => e.action).sort()).toEqual(['token.create', 'token.revoke'])
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
