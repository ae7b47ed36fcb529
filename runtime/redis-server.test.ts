import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ensureRedis } from './redis-server'

describe('ensureRedis', () => {
  it('uses the Redis that answers on the probe port', async () => {
    const found = await ensureRedis('/nonexistent', () => {}, { probePort: 6379 })
    expect(found.url).toBe('redis://127.0.0.1:6379')
    expect(found.child).toBeUndefined()
  })

  it('starts a redis-server child with AOF under the data dir when nothing answers', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'nudge-redis-'))
    const lines: string[] = []
    // Port 1 never answers Redis on a test machine.
    const local = await ensureRedis(dataDir, (line) => lines.push(line), { probePort: 1 })
    onTestFinished(async () => {
      await local.stop()
      await rm(dataDir, { recursive: true, force: true })
    })
    expect(local.child?.pid).toBeGreaterThan(0)
    const client = new Redis(local.url)
    await client.set('k', 'v')
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes'])
    client.disconnect()
    expect(lines[0]).toContain('Started redis-server')
    expect((await readdir(join(dataDir, 'redis'))).join(' ')).toMatch(/append/)
  })
})
