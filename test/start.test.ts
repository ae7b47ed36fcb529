/**
 * The one-command start, as a real child process: it migrates, seeds the demo site with the
 * keys it was given, serves ingest on a port, and on SIGTERM finishes and exits cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, expect, it, onTestFinished } from 'vitest'
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from './db'
import { readLog } from './log'
import { TEST_REDIS_URL, testRedis } from './redis'

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = ''
    const timer = setTimeout(
      () => reject(new Error(`no line matching ${pattern} in:\n${seen}`)),
      timeoutMs,
    )
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString()
      const match = pattern.exec(seen)
      if (match) {
        clearTimeout(timer)
        resolve(match[0])
      }
    })
  })
}

describe('nudge start', () => {
  it('serves ingest with the demo site, then drains and exits 0 on SIGTERM', async () => {
    const { redis, prefix } = await testRedis()
    const schema = uniqueSchema()
    onTestFinished(() => dropSchema(schema))
    const writeKey = `wk_demo_${schema}`
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/nudge.ts', 'start'], {
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        REDIS_URL: TEST_REDIS_URL,
        DATABASE_URL: TEST_DATABASE_URL,
        DATABASE_SCHEMA: schema,
        NUDGE_KEY_PREFIX: prefix,
        NUDGE_PARTITIONS: '2',
        NUDGE_DEMO_WRITE_KEY: writeKey,
        NUDGE_DEMO_SECRET: `sk_demo_${schema}`,
        NUDGE_DEMO_PASSWORD: 'demo password 1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    onTestFinished(() => {
      if (child.exitCode === null) {
        child.kill('SIGKILL')
      }
    })
    const line = await waitForLine(child, /listening on http:\/\/127\.0\.0\.1:\d+/, 25_000)
    const url = line.slice(line.indexOf('http'))

    const ready = await fetch(`${url}/readyz`)
    expect(ready.status).toBe(200)
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
        origin: 'http://localhost:8080',
      },
      body: JSON.stringify({
        events: [
          { id: 'start-1', type: 'PageViewed', v: 1, anonymousId: 'a', ts: Date.now(), props: {} },
        ],
      }),
    })
    expect(res.status, await res.clone().text()).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:8080')
    expect((await readLog(redis, prefix, 2)).map((e) => e.id)).toEqual(['start-1'])

    // The demo's console admin signs in and finds the demo rules, active.
    const login = await fetch(`${url}/v1/admin/login`, {
      method: 'POST',
      body: JSON.stringify({ email: 'demo@nudge.local', password: 'demo password 1' }),
    })
    expect(login.status, await login.clone().text()).toBe(200)
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string
    const rules = (await (
      await fetch(`${url}/v1/admin/rules`, { headers: { cookie } })
    ).json()) as {
      rules: { status: string }[]
    }
    expect(rules.rules.map((r) => r.status)).toEqual(['active', 'active', 'active'])

    child.kill('SIGTERM')
    const [code] = await once(child, 'exit')
    expect(code).toBe(0)
  })

  it('refuses a bad configuration naming the variable', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/nudge.ts', 'start'], {
      env: { ...process.env, NUDGE_PARTITIONS: 'many', REDIS_URL: TEST_REDIS_URL },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const [code] = await once(child, 'exit')
    expect(code).toBe(1)
    expect(stderr).toContain('NUDGE_PARTITIONS: expected a whole number from 1 to 1024')
  })
})
