/**
 * @module Browser-test support: one headless Debian Chromium per test file (playwright-core,
 * loopback only), a real api per test (its own Redis prefix and PostgreSQL schema, test/harness),
 * served on a port with every ingest request and answer recorded, and a "store" origin
 * (http://localhost:<port>) serving pages that paste the README snippet.
 */

import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, onTestFinished } from 'vitest'
import { findSite } from '../../drizzle/queries/sites'
import { createGateway, type Gateway } from '../../gateway/gateway'
import { createLogger } from '../../runtime/logger'
import { createMetrics } from '../../runtime/metrics'
import { createBlockingRedis, createRedis } from '../../runtime/redis'
import { deliverOffer } from '../../streams/inbox'
import { createKeys } from '../../streams/keys'
import type { Offer } from '../../streams/offers'
import { profileKey } from '../../streams/partition'
import { testApi } from '../harness'
import { readLog } from '../log'
import { TEST_REDIS_URL } from '../redis'
import { serveFetch } from '../serve'
import { until } from '../until'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * The test file's browser: launched before its first test, closed after its last. Call it at
 * the top of the file; the getter it returns answers inside tests.
 * @example const browser = browserPerFile(); it('…', async () => { await openPage(browser()) })
 */
export function browserPerFile(): () => Browser {
  let browser: Browser | undefined
  beforeAll(async () => {
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
  })
  return () => {
    if (!browser) {
      throw new Error('the browser is launched in beforeAll: ask for it inside a test')
    }
    return browser
  }
}

/** A headless Chromium on loopback only (browserPerFile launches one per test file). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
      // Nothing but loopback: any other host name fails to resolve.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
    ],
  })
}

/** One POST /v1/events as the api saw it: the events sent and the answer. */
export type IngestCall = {
  at: number
  status: number
  ids: string[]
  answer: { accepted?: number; duplicates?: number; rejected?: unknown[] } | undefined
}

export type Stack = Awaited<ReturnType<typeof startStack>>

/**
 * A real api on a loopback port, with every ingest request and answer recorded, and with
 * `live` the real gateway attached to the same server (as `nudge start` does). Faults come from
 * the real services: rate limits, Redis down through a proxy, a gateway restart.
 * @example const stack = await startStack(); await page.goto(stack.page('/', html))
 */
export async function startStack(
  env: Record<string, string> = {},
  opts: { redisUrl?: string; live?: boolean } = {},
) {
  const t = await testApi(env, opts)
  const calls: IngestCall[] = []
  const { url: apiUrl, server } = await serveFetch(async (incoming, e) => {
    const isIngest = new URL(incoming.url).pathname === '/v1/events'
    let ids: string[] = []
    let request = incoming
    let env = e
    if (isIngest && incoming.method === 'POST') {
      // The api reads Node's request stream itself; hand it a web Request read here instead.
      const text = await incoming.text()
      request = new Request(incoming.url, {
        method: 'POST',
        headers: incoming.headers,
        body: text,
      })
      env = { ...(e as object), incoming: undefined } as unknown as typeof e
      try {
        ids = ((JSON.parse(text) as { events?: { id: string }[] }).events ?? []).map((x) => x.id)
      } catch {
        ids = []
      }
    }
    const response = await t.app.fetch(request, env)
    if (isIngest && request.method === 'POST') {
      let answer: IngestCall['answer']
      try {
        answer = (await response.clone().json()) as IngestCall['answer']
      } catch {
        answer = undefined
      }
      calls.push({ at: Date.now(), status: response.status, ids, answer })
    }
    return response
  })
  let gateway: Gateway | undefined
  const startGateway = () => {
    const redis = createRedis(TEST_REDIS_URL, { commandTimeoutMs: 2_000 })
    const subscriber = createBlockingRedis(TEST_REDIS_URL, 'test-gateway-sub')
    const gw = createGateway({
      config: t.config,
      logger: createLogger({ level: 'silent', role: 'gateway' }),
      metrics: createMetrics({ defaults: false }),
      redis,
      subscriber,
      tokenKey: t.serverKeys.token,
      lookupSite: (siteId) => findSite(t.db, siteId),
    })
    server.on('upgrade', gw.handleUpgrade)
    gateway = gw
    return async () => {
      server.off('upgrade', gw.handleUpgrade)
      await gw.close({ graceMs: 200 })
      redis.disconnect()
      subscriber.disconnect()
    }
  }
  let stopGateway = opts.live ? startGateway() : undefined
  onTestFinished(() => stopGateway?.())
  const pages = new Map<string, string>()
  const store = await new Promise<Server>((resolve) => {
    const s = createServer((req, res) => {
      const html = pages.get((req.url ?? '/').split('?')[0] ?? '/')
      res.writeHead(html === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(html ?? 'not found')
    })
    s.listen(0, '127.0.0.1', () => resolve(s))
  })
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        store.closeAllConnections()
        store.close(() => resolve())
      }),
  )
  const storeOrigin = `http://localhost:${(store.address() as AddressInfo).port}`
  return {
    ...t,
    apiUrl,
    calls,
    storeOrigin,
    /** Serves `html` at `path` on the store origin and returns its URL. */
    page(path: string, html: string): string {
      pages.set(path, html)
      return storeOrigin + path
    },
    /** Every event in the log under this test's prefix. */
    log: () => readLog(t.redis, t.prefix, 4),
    /** Ids sent to the api, counting every time one was sent (retries, adoption, beacons). */
    sentIds: () => calls.flatMap((c) => c.ids),
    /** Open live sockets (0 without `live`). */
    liveConnections: () => gateway?.connections ?? 0,
    /** Stops the gateway (sockets get 1001) and starts a fresh one on the same port. */
    async restartGateway(): Promise<void> {
      await stopGateway?.()
      stopGateway = startGateway()
    },
    /** Puts an offer in a shopper's inbox and publishes it, as the workers do. */
    deliver: (who: string | { userId: string }, offer: Offer) =>
      deliverOffer(
        t.redis,
        createKeys(t.prefix),
        typeof who === 'string'
          ? profileKey(t.site.site.id, { anonymousId: who, verified: false })
          : profileKey(t.site.site.id, { userId: who.userId, verified: true }),
        offer,
      ),
  }
}

const SNIPPET = readFileSync(new URL('../../web-sdk/snippet.html', import.meta.url), 'utf8')

/** The README snippet for this api, with `init` options and the page body after it. */
export function snippetPage(
  stack: { apiUrl: string; site: { writeKey: string } },
  opts: { init?: Record<string, unknown>; head?: string; body?: string; page?: boolean } = {},
): string {
  // Live offers are off unless a test turns them on: they need the gateway, which has its own tests.
  const init = JSON.stringify({ writeKey: stack.site.writeKey, live: false, ...opts.init })
  let snippet = SNIPPET.replace("'https://nudge.example.com'", `'${stack.apiUrl}'`).replace(
    "nudge.init({ writeKey: 'wk_YOUR_WRITE_KEY' })",
    `nudge.init(${init})`,
  )
  if (opts.page === false) {
    snippet = snippet.replace('  nudge.page()\n', '')
  }
  return `<!doctype html><html><head><meta charset="utf-8"><title>Test store</title>${snippet}${opts.head ?? ''}</head><body>${opts.body ?? ''}</body></html>`
}

/** test/until.ts `until` with the longer default a browser round trip needs. */
export function waitFor<T>(
  read: () => T | Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 8_000,
): Promise<T> {
  return until(read, ok, timeoutMs)
}
