/**
 * @module `npm run bench:sdk`: what the browser SDK costs a store page. Prints the bundle size
 * (minified and gzip) and, in headless Debian Chromium, the main-thread time of a page with 200
 * tagged products without the SDK, with the SDK's bundle loaded but not started, and with the
 * SDK — during load (until the auto-tracked views have fired and been sent) and during 100
 * product clicks — plus the long tasks (> 50 ms) each page had.
 *
 * Main-thread time is read two ways in the same runs (README "bench:sdk" says why):
 * - `script ms`: CDP `ScriptDuration`, wall-clock time inside script — the figure this bench
 *   always printed. On a busy 2-core machine most of it is the renderer waiting for a core or
 *   for the browser process, not running.
 * - from a Chromium trace of the page's renderer main thread: `script CPU` (thread time of the
 *   outermost script events) and `main CPU` (thread time of every task: script, compilation,
 *   style, layout, GC, IPC handling — whatever the page caused, script or not), next to `main
 *   ms`, the wall time of those tasks.
 *
 * Self-contained: one loopback HTTP server serves the pages, /sdk.js (built here, as the api
 * builds it) and a stand-in for POST /v1/events that answers 200 at once, so the figures are
 * the SDK's own work, not the api's. Each run opens a fresh browser context (a first visit: no
 * stored ids, cold caches) and, unless `--no-settle`, waits until Chromium's own start-up work
 * for that context is done before loading the page. Pages alternate; medians are printed.
 * Targets (issue 6): ≤ 8 KB gzip, < 5 ms added at load, no long task caused by the SDK.
 *
 * Usage: npm run bench:sdk -- [--runs 5] [--no-settle]
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { type Browser, type CDPSession, chromium, type Page } from 'playwright-core'
import { bundleSdk } from '../api/routes/sdk'
import { machine, machineBusyMs } from './measure'

const PRODUCTS = 200
const CLICKS = 100
const LOAD_WAIT_MS = 1_500
/**
 * Trace categories: tasks with their thread time, script events, and V8's compile events (for
 * its re-parsing of scripts to put source positions into stack traces: see `reparseCpu`).
 */
const CATEGORIES = ['toplevel', 'devtools.timeline', 'v8.execute', 'disabled-by-default-v8.compile']
/** Outermost events of these names are script execution (nested ones are inside them). */
const SCRIPT_EVENTS = new Set([
  'EvaluateScript',
  'FunctionCall',
  'RunMicrotasks',
  'v8.run',
  'v8.callFunction',
  'v8.evaluateModule',
])

type Kind = 'without' | 'bundle' | 'with'
const PAGES: [Kind, string][] = [
  ['without', 'without SDK'],
  ['bundle', 'bundle only'],
  ['with', 'with SDK'],
]

/**
 * Main-thread time of one phase, ms: wall and thread (CPU) time. `reparseCpu` is the part of
 * `scriptCpu` V8 spent re-parsing functions to give a stack trace source positions. It happens
 * because Playwright keeps DevTools' Runtime domain enabled: Blink then captures the full JS
 * stack on a `document.cookie` read or a `fetch`, and with the bundle's top level on the stack
 * that means re-parsing the whole bundle. A shopper's browser has no debugger attached.
 */
type Phase = {
  script: number
  scriptCpu: number
  reparseCpu: number
  main: number
  mainCpu: number
}
type Sample = { load: Phase; clicks: Phase; longTasks: number; longTaskMs: number; busy: number }

function page(kind: Kind, origin: string): string {
  // `bundle`: the same snippet and bundle, but the stub says the SDK is already there, so the
  // bundle is fetched, compiled and run and then does nothing: what any script this size costs.
  const snippet =
    kind === 'without'
      ? ''
      : `<script>
  !function (w, d, host) {
    var q = [], n = w.nudge = function () { q.push([[].slice.call(arguments), { url: location.href, referrer: d.referrer, title: d.title, ts: Date.now() }]) }
    n.q = q${kind === 'bundle' ? '; n.loaded = true' : ''}
    'init track identify page reset consent onOffer ready'.split(' ').forEach(function (m) { n[m] = function () { n.apply(null, [m].concat([].slice.call(arguments))) } })
    var s = d.createElement('script'); s.async = true; s.src = host + '/sdk.js'; d.head.appendChild(s)
  }(window, document, '${origin}')
  nudge.init({ writeKey: 'wk_bench', live: false })
  nudge.page()
</script>`
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Waits until Chromium's processes are idle (under 10% of a core for 300 ms; at most 5 s).
 * Every new browser context makes this headless Chromium start a WebUI renderer (the omnibox
 * popup) that burns ~0.5 s of CPU in the next second; on two cores, a page loaded meanwhile
 * measures that neighbour more than itself.
 */
async function settle(browserCdp: CDPSession): Promise<void> {
  const cpu = async () => {
    const { processInfo } = await browserCdp.send('SystemInfo.getProcessInfo')
    return processInfo.reduce((sum, p) => sum + p.cpuTime, 0) * 1000
  }
  const deadline = Date.now() + 5_000
  let before = await cpu()
  while (Date.now() < deadline) {
    await sleep(300)
    const now = await cpu()
    if (now - before < 30) {
      return
    }
    before = now
  }
}

type TraceEvent = {
  name: string
  ph: string
  pid: number
  tid: number
  ts: number
  dur?: number
  tdur?: number
  args?: { data?: { url?: string }; beginData?: { url?: string } }
}

async function trace(browser: Browser, p: Page, during: () => Promise<void>) {
  await browser.startTracing(p, { categories: CATEGORIES })
  await during()
  const { traceEvents } = JSON.parse((await browser.stopTracing()).toString()) as {
    traceEvents: TraceEvent[]
  }
  return traceEvents
}

/** The renderer main thread that parsed the page at `url`. */
function mainThread(events: TraceEvent[], url: string): string {
  const parse = events.find(
    (e) => e.name === 'ParseHTML' && e.args?.beginData?.url?.startsWith(url) === true,
  )
  if (!parse) {
    throw new Error(`no ParseHTML of ${url} in the trace`)
  }
  return `${parse.pid}:${parse.tid}`
}

/** Sums the outermost events on `thread`: all of them (tasks), and the script ones. */
function phaseOf(events: TraceEvent[], thread: string, script: number): Phase {
  const own = events
    .filter((e) => e.ph === 'X' && `${e.pid}:${e.tid}` === thread)
    .sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0))
  const out: Phase = { script, scriptCpu: 0, reparseCpu: 0, main: 0, mainCpu: 0 }
  let taskEnd = 0
  let scriptEnd = 0
  let reparseEnd = 0
  for (const e of own) {
    const end = e.ts + (e.dur ?? 0)
    if (e.ts >= taskEnd) {
      taskEnd = end
      out.main += (e.dur ?? 0) / 1000
      out.mainCpu += (e.tdur ?? 0) / 1000
    }
    if (SCRIPT_EVENTS.has(e.name) && e.ts >= scriptEnd) {
      scriptEnd = end
      out.scriptCpu += (e.tdur ?? 0) / 1000
    }
    if (e.name === 'V8.CollectSourcePositions' && e.ts >= reparseEnd) {
      reparseEnd = end
      out.reparseCpu += (e.tdur ?? 0) / 1000
    }
  }
  return out
}

async function measure(
  browser: Browser,
  browserCdp: CDPSession,
  url: string,
  settleFirst: boolean,
): Promise<Sample> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const p = await context.newPage()
  const cdp = await context.newCDPSession(p)
  await cdp.send('Performance.enable')
  const script = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics')
    return (metrics.find((m) => m.name === 'ScriptDuration')?.value ?? 0) * 1000
  }
  if (settleFirst) {
    await settle(browserCdp)
  }
  const busyBefore = machineBusyMs() ?? 0
  const startedAt = Date.now()
  let loadMs = 0
  const loadTrace = await trace(browser, p, async () => {
    const before = await script()
    await p.goto(url, { waitUntil: 'load' })
    // Long enough for the bundle to load and the in-view tiles' 1 s view timers to fire.
    await p.waitForTimeout(LOAD_WAIT_MS)
    loadMs = (await script()) - before
  })
  const busy = ((machineBusyMs() ?? 0) - busyBefore) / (Date.now() - startedAt) / os.cpus().length
  const thread = mainThread(loadTrace, url)
  // Where to click, read once outside the measured phases: mouse clicks need no script in the
  // page (page.click runs Playwright's actionability checks there, ~0.2 ms of script a click).
  const centers = await p.evaluate((n) => {
    const out: [number, number][] = []
    for (let i = 0; i < n; i++) {
      const r = document.getElementById(`p${i}`)?.getBoundingClientRect()
      if (r) {
        out.push([r.x + r.width / 2, r.y + r.height / 2])
      }
    }
    return out
  }, 40)
  let clicksMs = 0
  const clickTrace = await trace(browser, p, async () => {
    const before = await script()
    for (let i = 0; i < CLICKS; i++) {
      const [x, y] = centers[i % centers.length] ?? [10, 10]
      await p.mouse.click(x, y)
    }
    await p.waitForTimeout(300)
    clicksMs = (await script()) - before
  })
  const long = await p.evaluate(() => (window as unknown as { __long: number[] }).__long)
  await context.close()
  return {
    load: phaseOf(loadTrace, thread, loadMs),
    clicks: phaseOf(clickTrace, thread, clicksMs),
    longTasks: long.length,
    longTaskMs: long.reduce((a, b) => a + b, 0),
    busy,
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? 0
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '5' }, 'no-settle': { type: 'boolean' } },
  })
  const runs = Math.max(1, Number(values.runs) || 5)
  const settleFirst = values['no-settle'] !== true
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
      const kind = PAGES.find(([k]) => req.url === `/${k}`)?.[0] ?? 'without'
      res.writeHead(200, { 'content-type': 'text/html' }).end(page(kind, origin))
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const loadAverage = os.loadavg()[0] ?? 0
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
  const samples = new Map<Kind, Sample[]>(PAGES.map(([k]) => [k, []]))
  try {
    const browserCdp = await browser.newBrowserCDPSession()
    for (let i = 0; i < runs; i++) {
      for (const [kind] of PAGES) {
        samples.get(kind)?.push(await measure(browser, browserCdp, `${base}/${kind}`, settleFirst))
      }
    }
  } finally {
    await browser.close()
    server.close()
  }

  const of = (kind: Kind) => samples.get(kind) ?? []
  const m = (kind: Kind, pick: (s: Sample) => number) => median(of(kind).map(pick))
  const f = (x: number) => x.toFixed(1)
  const phases = ['load', 'clicks'] as const
  const cols = ['script', 'scriptCpu', 'main', 'mainCpu'] as const
  type Col = (typeof cols)[number] | 'reparseCpu'
  const mc = machine()
  console.log(`machine: ${mc.cpu}, ${mc.cores} cores, ${mc.memory}, node ${mc.node}`)
  console.log(`sdk.js: ${bytes} bytes minified, ${gzip} bytes gzip (budget 8192)`)
  console.log(
    `page: ${PRODUCTS} tagged products; medians of ${runs} runs; ${settleFirst ? 'browser idle before each page' : 'no wait for the browser to be idle (--no-settle)'}; load average ${loadAverage.toFixed(1)} at start, machine ${(m('with', (s) => s.busy) * 100).toFixed(0)}% busy during loads`,
  )
  console.log(
    `${''.padEnd(12)} ${'load: script ms'.padStart(15)} ${'CPU'.padStart(5)} ${'main ms'.padStart(8)} ${'CPU'.padStart(5)} | ${`${CLICKS} clicks: script ms`.padStart(21)} ${'CPU'.padStart(5)} ${'main ms'.padStart(8)} ${'CPU'.padStart(5)} | long tasks`,
  )
  for (const [kind, name] of PAGES) {
    const cells = phases.map((ph) =>
      cols.map((c, i) => f(m(kind, (s) => s[ph][c])).padStart(i === 0 ? 15 : i === 2 ? 8 : 5)),
    )
    console.log(
      `${name.padEnd(12)} ${cells[0]?.join(' ')} | ${cells[1]?.join(' ').padStart(41)} | ${m(kind, (s) => s.longTasks)} (${f(m(kind, (s) => s.longTaskMs))} ms)`,
    )
  }
  const added = (kind: Kind, ph: (typeof phases)[number], c: Col) =>
    f(m(kind, (s) => s[ph][c]) - m('without', (s) => s[ph][c]))
  for (const [kind, what] of [
    ['with', 'the SDK'],
    ['bundle', 'the bundle alone'],
  ] as const) {
    console.log(
      `added by ${what}: at load ${added(kind, 'load', 'script')} ms script time (ScriptDuration, wall), ${added(kind, 'load', 'scriptCpu')} ms script CPU (${added(kind, 'load', 'reparseCpu')} of it re-parsing for the debugger), ${added(kind, 'load', 'mainCpu')} ms main-thread CPU (${added(kind, 'load', 'main')} ms wall); over ${CLICKS} clicks ${added(kind, 'clicks', 'script')} ms script time, ${added(kind, 'clicks', 'mainCpu')} ms main-thread CPU`,
    )
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
