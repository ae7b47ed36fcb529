/**
 * `nudge import` against a real api on a loopback port (real Redis, real PostgreSQL). The CSV is
 * test/fixtures/otto-sample.csv: 20 sessions of the OTTO RecSys dataset (CC BY 4.0, © OTTO
 * (GmbH & Co KG); see test/fixtures/README.md), with made-up categories.
 */
import { once } from 'node:events'
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { StoredEvent } from '../streams/events'
import { createKeys } from '../streams/keys'
import { type TestApi, testApi } from '../test/harness'
import { serveApp } from '../test/serve'
import { type ImportDeps, runImportCommand } from './import'

const OTTO_CSV = new URL('../test/fixtures/otto-sample.csv', import.meta.url)

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nudge-import-'))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** The OTTO CSV with three bad lines put in after line 100: lines 101, 102 and 103. */
async function ottoWithBadLines(dir: string): Promise<string> {
  const lines = (await readFile(OTTO_CSV, 'utf8')).trimEnd().split('\n')
  lines.splice(
    100,
    0,
    'otto-1,1517085,cat-9,like,1659304800',
    'otto bad,1517085,cat-9,view,1659304800',
    'otto-1,"1517085,cat-9,view,1659304800',
  )
  const file = join(dir, 'otto.csv')
  await writeFile(file, `${lines.join('\n')}\n`)
  return file
}

/** Every event in the log under the test's prefix. */
async function logged(redis: Redis, t: TestApi): Promise<StoredEvent[]> {
  const keys = createKeys(t.prefix)
  const events: StoredEvent[] = []
  for (let p = 0; p < t.config.NUDGE_PARTITIONS; p++) {
    for (const [, fields] of await redis.xrange(keys.events(p), '-', '+')) {
      for (let i = 1; i < fields.length; i += 2) {
        events.push(JSON.parse(fields[i] ?? '') as StoredEvent)
      }
    }
  }
  return events
}

function deps(lines: string[], extra: Partial<ImportDeps> = {}): ImportDeps {
  return { out: (line) => lines.push(line), progress: { write: () => true }, ...extra }
}

describe('nudge import', () => {
  it('imports the OTTO CSV through the api, reports bad lines, and never counts twice', async () => {
    const t = await testApi()
    const { url } = await serveApp(t.app)
    const file = await ottoWithBadLines(await tempDir())
    const args = [file, '--url', url, '--key', t.site.secret]
    const lines: string[] = []
    expect(await runImportCommand(args, deps(lines)), lines.join('\n')).toBe(0)
    expect(lines).toEqual([
      'line 101: event: expected view, cart, fav or buy; got "like"',
      'line 102: user_id: expected 1 to 128 printable ASCII characters, no spaces',
      'line 103: (line): a quoted field is not closed',
      `Imported ${file}: 862 events stored (862 new, 0 already there), 3 lines rejected.`,
    ])
    const events = await logged(t.redis, t)
    expect(events).toHaveLength(862)
    const types = new Map<string, number>()
    for (const event of events) {
      types.set(event.type, (types.get(event.type) ?? 0) + 1)
    }
    expect(Object.fromEntries(types)).toEqual({
      ProductViewed: 800,
      AddedToCart: 52,
      OrderCompleted: 10,
    })
    const first = events.find((e) => e.userId === 'otto-0' && e.ts === 1659304800000)
    expect(first).toMatchObject({
      type: 'ProductViewed',
      verified: true,
      props: { productId: '1517085', category: 'cat-9' },
    })

    // Finished means finished; without the checkpoint every id is known to the api already.
    expect(await runImportCommand(args, deps(lines))).toBe(0)
    expect(lines.at(-1)).toMatch(/is already imported/)
    await unlink(`${file}.nudge-import.json`)
    expect(await runImportCommand(args, deps(lines))).toBe(0)
    expect(lines.at(-1)).toMatch(
      /: 862 events stored \(0 new, 862 already there\), 3 lines rejected/,
    )
    expect(await logged(t.redis, t)).toHaveLength(862)
  })

  it('resumes an interrupted import, and a lost answer resent counts once', async () => {
    const t = await testApi()
    const { url } = await serveApp(t.app)
    const dir = await tempDir()
    const file = join(dir, 'otto.csv')
    await writeFile(file, await readFile(OTTO_CSV))
    const args = [file, '--url', url, '--key', t.site.secret]
    const lines: string[] = []
    const abort = new AbortController()
    const stopAt3 = {
      batchSize: 100,
      signal: abort.signal,
      onBatch: (n: number) => n === 3 && abort.abort(),
    }
    expect(await runImportCommand(args, deps(lines, stopAt3))).toBe(130)
    expect(lines.at(-1)).toMatch(
      /^Interrupted\. Lines up to 301 are in; run the same command again/,
    )
    expect(await logged(t.redis, t)).toHaveLength(300)

    // The api stores the fourth request but its answer is lost: the import sends it again.
    let requests = 0
    const losing: typeof fetch = async (input, init) => {
      const res = await fetch(input, init)
      requests++
      if (requests === 2) {
        throw new TypeError('fetch failed: socket hang up')
      }
      return res
    }
    const waits: number[] = []
    const wait = async (ms: number) => {
      waits.push(ms)
    }
    expect(await runImportCommand(args, deps(lines, { batchSize: 100, fetch: losing, wait }))).toBe(
      0,
    )
    expect(waits).toEqual([500])
    expect(lines.at(-1)).toMatch(/: 862 events stored \(762 new, 100 already there\), 0 lines/)
    expect(await logged(t.redis, t)).toHaveLength(862)
  })

  it('honours 429 Retry-After and reports rejected Segment messages by line', async () => {
    const t = await testApi({ NUDGE_RATE_SITE: '400', NUDGE_RATE_SITE_BURST: '400' })
    const { url, statuses } = await serveApp(t.app)
    const dir = await tempDir()
    const messages = Array.from({ length: 600 }, (_, i) =>
      JSON.stringify({
        type: 'track',
        event: i % 3 === 0 ? 'Product Added' : 'Product Viewed',
        userId: `u-${i % 17}`,
        timestamp: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
        properties: { product_id: `sku-${i % 40}`, category: 'Shoes', price: 10 + (i % 7) },
      }),
    )
    messages.splice(10, 0, '{"type":"track","event":"Product Viewed"', '')
    messages.splice(20, 0, '{"type":"track","event":"Product Viewed","properties":{}}')
    const file = join(dir, 'messages.jsonl')
    await writeFile(file, `${messages.join('\n')}\n`)
    const waits: number[] = []
    const wait = async (ms: number) => {
      waits.push(ms)
      await new Promise((r) => setTimeout(r, ms))
    }
    const lines: string[] = []
    const code = await runImportCommand(
      [file, '--url', url, '--key', t.site.secret],
      deps(lines, { batchSize: 250, wait }),
    )
    expect(code, lines.join('\n')).toBe(0)
    expect(lines[0]).toMatch(/^line 11: \(line\): not JSON: /)
    expect(lines[1]).toBe('line 21: userId: expected userId or anonymousId (one is required)')
    expect(lines.at(-1)).toMatch(/: 600 events stored \(600 new, 0 already there\), 2 lines/)
    expect(statuses).toContain(429)
    expect(waits.length).toBeGreaterThan(0)
    expect(waits.every((ms) => ms >= 1000)).toBe(true)
    expect(await logged(t.redis, t)).toHaveLength(600)
  })

  it('retries 503 after Retry-After, then gives up with the place to resume from', async () => {
    const answers = [503, 503, 200, 503, 503, 503]
    const server = createServer((req, res) => {
      req.resume()
      const status = answers.shift() ?? 503
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '2' })
      res.end(
        status === 200
          ? '{"accepted":2,"duplicates":0,"rejected":[]}'
          : '{"error":{"code":"UNAVAILABLE","message":"The event log is unavailable"}}',
      )
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const dir = await tempDir()
    const file = join(dir, 'few.csv')
    const rows = [
      'user_id,item_id,category_id,event,ts',
      'u1,i1,c1,view,1700000000',
      'u1,i2,c1,fav,1700000001',
      'u2,i1,,buy,1700000002',
    ]
    await writeFile(file, `${rows.join('\n')}\n`)
    const waits: number[] = []
    const lines: string[] = []
    const run = deps(lines, { batchSize: 2, maxAttempts: 3, wait: async (ms) => waits.push(ms) })
    expect(await runImportCommand([file, '--url', url, '--key', 'wk_public'], run)).toBe(1)
    expect(waits).toEqual([2000, 2000, 2000, 2000])
    expect(lines.at(-1)).toBe(
      'nudge import: the api answered 503: The event log is unavailable (gave up after 3 attempts)\nLines up to 3 are in; run the same command again to resume (checkpoint ' +
        `${file}.nudge-import.json).`,
    )
    const checkpoint = JSON.parse(await readFile(`${file}.nudge-import.json`, 'utf8'))
    expect(checkpoint).toMatchObject({ line: 3, done: false, counts: { accepted: 2 } })
  })

  it('says what is wrong with the command line, the file or the checkpoint', async () => {
    const dir = await tempDir()
    const file = join(dir, 'a.csv')
    await writeFile(file, 'user,item\nu1,i1\n')
    const lines: string[] = []
    const run = (args: string[]) => runImportCommand(args, deps(lines))
    const key = ['--key', 'sk_x']
    expect(await run(['--url', 'http://x', ...key])).toBe(2)
    expect(lines.at(-1)).toMatch(/^nudge import: expected one file, got 0/)
    expect(await run([file, '--url', 'ftp://x', ...key])).toBe(2)
    expect(lines.at(-1)).toMatch(/--url expects an http\(s\) URL/)
    expect(await run([join(dir, 'a.txt'), '--url', 'http://x', ...key])).toBe(2)
    expect(lines.at(-1)).toMatch(/cannot tell the format of .*a\.txt.*; pass --format csv/)
    expect(await run([file, '--url', 'http://x', ...key, '--identity', 'robot'])).toBe(2)
    expect(await run([join(dir, 'missing.csv'), '--url', 'http://x', ...key])).toBe(1)
    expect(lines.at(-1)).toMatch(/^nudge import: cannot read .*missing\.csv: ENOENT/)
    expect(await run([file, '--url', 'http://x', ...key])).toBe(1)
    expect(lines.at(-1)).toBe(
      `nudge import: ${file}: the CSV header lacks user_id, item_id, category_id, event, ts; expected user_id,item_id,category_id,event,ts`,
    )
    await writeFile(
      `${file}.nudge-import.json`,
      JSON.stringify({
        version: 1,
        format: 'csv',
        fingerprint: 'x',
        fingerprintBytes: 4,
        target: 'y',
        offset: 0,
        line: 0,
        done: false,
        counts: {},
      }),
    )
    expect(await run([file, '--url', 'http://x', ...key])).toBe(1)
    expect(lines.at(-1)).toMatch(/belongs to another file or format; delete it to start over/)
    expect(await run(['--help'])).toBe(0)
  })
})
