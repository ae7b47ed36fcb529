/**
 * @module `npm run bench:sdk`: what the browser SDK costs a store page. Prints the bundle size
 * (minified and gzip) and, in headless Debian Chromium, the main-thread time of a page with 200
 * tagged products with the SDK and without it — during load (until the auto-tracked views have
 * fired) and during 100 product clicks — plus the long tasks (> 50 ms) each page had.
 *
 * Self-contained: one loopback HTTP server serves both pages, /sdk.js (built here, as the api
 * builds it) and a stand-in for POST /v1/events that answers 200 at once, so the figures are
 * the SDK's own work, not the api's. Pages alternate with/without, and medians are printed.
 * Targets (issue 6): ≤ 8 KB gzip, < 5 ms added at load, no long task caused by the SDK.
 *
 * Usage: npm run bench:sdk -- [--runs 5]
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { type Browser, chromium } from 'playwright-core'
import { bundleSdk } from '../api/routes/sdk'
import { machine } from './measure'

const PRODUCTS = 200
const CLICKS = 100

type Sample = { loadMs: number; clicksMs: number; longTasks: number; longTaskMs: number }

function page(withSdk: boolean, origin: string): string {
  const snippet = withSdk
    ? `<script>
  !function (w, d, host) {
    var q = [], n = w.nudge = function () { q.push([[].slice.call(arguments), { url: location.href, referrer: d.referrer, title: d.title, ts: Date.now() }]) }
    n.q = q
    'init track identify page reset consent onOffer ready'.split(' ').forEach(function (m) { n[m] = function () { n.apply(null, [m].concat([].slice.call(arguments))) } })
    var s = d.createElement('script'); s.async = true; s.src = host + '/sdk.js'; d.head.appendChild(s)
  }(window, document, '${origin}')
  nudge.init({ writeKey: 'wk_bench', live: false })
  nudge.page()
</script>`
    : ''
  const tiles = Array.from(
    { length: PRODUCTS },
    (_, i) =>
      `<div class="t" id="p${i}" data-nudge-product-id="sku-${i}" data-nudge-category="cat-${i % 12}" data-nudge-price="${(10 + i).toFixed(2)}">Product ${i}</div>`,
  ).join('')
  return `<!doctype html><html><head><meta charset="utf-8"><title>bench</title>
<style>body{margin:0;display:grid;grid-template-columns:repeat(8,1fr);gap:4px}.t{height:90px;background:#eee}</style>
<script>window.__long=[];new PerformanceObserver(function(l){l.getEntries().forEach(function(e){window.__long.push(e.duration)})}).observe({type:'longtask',buffered:true})</script>
${snippet}</head><body>${tiles}</body></html>`
}

async function measure(browser: Browser, url: string): Promise<Sample> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const p = await context.newPage()
  const cdp = await context.newCDPSession(p)
  await cdp.send('Performance.enable')
  const script = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics')
    return (metrics.find((m) => m.name === 'ScriptDuration')?.value ?? 0) * 1000
  }
  await p.goto(url, { waitUntil: 'load' })
  // Long enough for the snippet's bundle to load and the in-view tiles' 1 s view timers to fire.
  await p.waitForTimeout(1_500)
  const loadMs = await script()
  for (let i = 0; i < CLICKS; i++) {
    await p.click(`#p${i % 40}`)
  }
  await p.waitForTimeout(300)
  const clicksMs = (await script()) - loadMs
  const long = await p.evaluate(() => (window as unknown as { __long: number[] }).__long)
  await context.close()
  return {
    loadMs,
    clicksMs,
    longTasks: long.length,
    longTaskMs: long.reduce((a, b) => a + b, 0),
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? 0
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } })
  const runs = Math.max(1, Number(values.runs) || 5)
  const { code, bytes } = await bundleSdk()
  const gzip = gzipSync(code, { level: 9 }).length

  const server = createServer((req, res) => {
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    if (req.url === '/sdk.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(code)
    } else if (req.url?.startsWith('/v1/events')) {
      req.resume()
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"accepted":1,"duplicates":0,"rejected":[]}')
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page(req.url === '/with', origin))
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
  })
  const withSdk: Sample[] = []
  const without: Sample[] = []
  try {
    for (let i = 0; i < runs; i++) {
      without.push(await measure(browser, `${base}/without`))
      withSdk.push(await measure(browser, `${base}/with`))
    }
  } finally {
    await browser.close()
    server.close()
  }
  const m = (xs: Sample[], k: keyof Sample) => median(xs.map((x) => x[k]))
  const row = (name: string, xs: Sample[]) =>
    `${name.padEnd(12)} ${m(xs, 'loadMs').toFixed(1).padStart(8)} ${m(xs, 'clicksMs').toFixed(1).padStart(12)} ${String(m(xs, 'longTasks')).padStart(10)} ${m(xs, 'longTaskMs').toFixed(0).padStart(12)}`
  const mc = machine()
  console.log(`machine: ${mc.cpu}, ${mc.cores} cores, ${mc.memory}, node ${mc.node}`)
  console.log(`sdk.js: ${bytes} bytes minified, ${gzip} bytes gzip (budget 8192)`)
  console.log(
    `page: ${PRODUCTS} tagged products; medians of ${runs} runs; script time from CDP ScriptDuration`,
  )
  console.log(
    `${'page'.padEnd(12)} ${'load ms'.padStart(8)} ${`${CLICKS} clicks ms`.padStart(12)} ${'long tasks'.padStart(10)} ${'long task ms'.padStart(12)}`,
  )
  console.log(row('without SDK', without))
  console.log(row('with SDK', withSdk))
  console.log(
    `added: ${(m(withSdk, 'loadMs') - m(without, 'loadMs')).toFixed(1)} ms at load, ${(m(withSdk, 'clicksMs') - m(without, 'clicksMs')).toFixed(1)} ms over ${CLICKS} clicks`,
  )
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
