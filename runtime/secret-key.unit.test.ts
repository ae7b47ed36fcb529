import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from './config'
import { loadServerKeys } from './secret-key'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) {
    rmSync(dir, { recursive: true, force: true })
  }
})

describe('server key', () => {
  it('is generated once into NUDGE_DATA_DIR/secret.key (0600) and reused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nudge-key-'))
    dirs.push(dir)
    const lines: string[] = []
    const first = loadServerKeys({ configured: undefined, dataDir: dir, say: (l) => lines.push(l) })
    expect(statSync(join(dir, 'secret.key')).mode & 0o777).toBe(0o600)
    expect(lines.join()).toMatch(/NUDGE_SECRET_KEY/)
    const again = loadServerKeys({ configured: undefined, dataDir: dir })
    expect(Buffer.from(again.token).equals(Buffer.from(first.token))).toBe(true)
  })

  it('prefers NUDGE_SECRET_KEY, in hex or base64, and refuses short or unreadable keys', () => {
    const hex = loadConfig({ NUDGE_SECRET_KEY: 'ab'.repeat(32) }).NUDGE_SECRET_KEY
    const b64 = loadConfig({
      NUDGE_SECRET_KEY: Buffer.alloc(32, 0xab).toString('base64'),
    }).NUDGE_SECRET_KEY
    expect(hex?.equals(b64 ?? Buffer.alloc(0))).toBe(true)
    expect(() => loadConfig({ NUDGE_SECRET_KEY: 'ab'.repeat(16) })).toThrow(
      /NUDGE_SECRET_KEY: expected at least 32 random bytes/,
    )
    expect(() => loadConfig({ NUDGE_SECRET_KEY: 'not a key!' })).toThrow(/NUDGE_SECRET_KEY/)
    const dir = mkdtempSync(join(tmpdir(), 'nudge-key-'))
    dirs.push(dir)
    writeFileSync(join(dir, 'secret.key'), 'short')
    expect(() => loadServerKeys({ configured: undefined, dataDir: dir })).toThrow(/secret\.key/)
  })
})
