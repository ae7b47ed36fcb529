/**
 * The snippet and the bundle in real Chromium: calls made before /sdk.js arrives are queued
 * with their page context and replayed once; batches go by count and by time; /sdk.js is cached
 * by ETag and stays within its size budget.
 */
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { bundleSdk } from '../../api/routes/sdk'
import { browserPerFile, snippetPage, startStack, waitFor } from './support'

const browser = browserPerFile()

describe('snippet and loader', () => {
  it('queues calls made before the bundle loads and replays them once, with their own context', async () => {
    const stack = await startStack()
    const url = stack.page(
      '/p/1',
      snippetPage(stack, {
        init: { flushAt: 50, flushInterval: 200 },
        head: `<script>
          nudge.track('ProductViewed', { productId: 'sku-1', price: 12.5 })
          nudge('track', 'Wishlisted', { productId: 'sku-1' })
          window.__queued = nudge.q.length
          window.__stubTs = Date.now()
          history.replaceState(null, '', '/p/1?moved=1')
        </script>`,
      }),
    )
    const context = await browser().newContext()
    const page = await context.newPage()
    await page.goto(url)
    // init, page, track, track: all four went through the stub's queue.
    expect(await page.evaluate(() => (window as unknown as { __queued: number }).__queued)).toBe(4)
    const log = await waitFor(stack.log, (events) => events.length >= 3)
    expect(log.map((e) => e.type).sort()).toEqual(['Custom', 'PageViewed', 'ProductViewed'])
    const viewed = log.find((e) => e.type === 'ProductViewed')
    expect(viewed?.props).toMatchObject({ productId: 'sku-1', price: 12.5 })
    // The context is the page's at call time, before the stub's replaceState.
    expect(viewed?.context?.url).toBe(`${stack.storeOrigin}/p/1`)
    const stubTs = await page.evaluate(() => (window as unknown as { __stubTs: number }).__stubTs)
    expect(viewed?.ts).toBeLessThanOrEqual(stubTs)
    const custom = log.find((e) => e.type === 'Custom')
    expect(custom?.props).toEqual({ name: 'Wishlisted', properties: { productId: 'sku-1' } })
    expect(new Set(log.map((e) => e.anonymousId)).size).toBe(1)
    // The real nudge replaced the stub; nothing is sent twice.
    await page.evaluate(() => new Promise((r) => setTimeout(r, 400)))
    expect(stack.sentIds()).toHaveLength(3)
    expect(
      await page.evaluate(() => typeof (window as unknown as { nudge: { q?: unknown } }).nudge.q),
    ).toBe('undefined')
    await context.close()
  })

  it('flushes a batch when flushAt events wait (a burst in one task as one), and the rest after flushInterval', async () => {
    const stack = await startStack()
    const url = stack.page(
      '/',
      snippetPage(stack, { init: { flushAt: 5, flushInterval: 600 }, page: false }),
    )
    const context = await browser().newContext()
    const page = await context.newPage()
    await page.goto(url)
    await page.evaluate(
      () =>
        new Promise<void>((r) =>
          (window as unknown as { nudge: { ready(cb: () => void): void } }).nudge.ready(r),
        ),
    )
    const track = (from: number, to: number) =>
      page.evaluate(
        ([a, b]: [number, number]) => {
          const n = (window as unknown as { nudge: { track(t: string, p: object): void } }).nudge
          for (let i = a; i < b; i++) {
            n.track('ProductViewed', { productId: `sku-${i}` })
          }
        },
        [from, to] as [number, number],
      )
    // Five events reach flushAt: one request at once.
    const countFlush = Date.now()
    await track(0, 5)
    await waitFor(
      () => stack.calls,
      (c) => c.length >= 1,
    )
    expect(stack.calls[0]?.at ?? 0).toBeLessThan(countFlush + 400)
    // Two more stay below flushAt: they go flushInterval after the first of them.
    const timeFlush = Date.now()
    await track(5, 7)
    const calls = await waitFor(
      () => stack.calls,
      (c) => c.length >= 2,
    )
    expect(calls.map((c) => c.ids.length)).toEqual([5, 2])
    expect(calls[1]?.at ?? 0).toBeGreaterThanOrEqual(timeFlush + 550)
    expect((await stack.log()).length).toBe(7)
    // Twelve in one task (a page of tiles coming into view): one request at once, not five and
    // then the rest.
    const burstFlush = Date.now()
    await track(7, 19)
    const burst = await waitFor(
      () => stack.calls,
      (c) => c.length >= 3,
    )
    expect(burst[2]?.at ?? 0).toBeLessThan(burstFlush + 400)
    await page.waitForTimeout(800)
    expect(stack.calls.map((c) => c.ids.length)).toEqual([5, 2, 12])
    expect((await stack.log()).length).toBe(19)
    await context.close()
  })
})

describe('when Nudge is down', () => {
  it("leaves the page working: no errors, the page's own code runs", async () => {
    const stack = await startStack()
    const closed = 'http://127.0.0.1:9' // discard port: nothing listens
    const down = { apiUrl: closed, site: stack.site }
    const url = stack.page(
      '/',
      snippetPage(down, {
        head: `<script>nudge.track('ProductViewed', { productId: 'x' }); window.__after = 1</script>`,
      }),
    )
    const context = await browser().newContext()
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(url)
    await page.waitForTimeout(500)
    expect(await page.evaluate(() => (window as unknown as { __after: number }).__after)).toBe(1)

    // The bundle loaded, then the api went away: calls still never throw.
    const live = stack.page(
      '/live',
      snippetPage(stack, { init: { flushAt: 1, maxRetryDelay: 200 } }),
    )
    await context.route(`${stack.apiUrl}/v1/**`, (route) => route.abort('connectionrefused'))
    await page.goto(live)
    await page.evaluate(
      () =>
        new Promise<void>((r) =>
          (window as unknown as { nudge: { ready(cb: () => void): void } }).nudge.ready(r),
        ),
    )
    const result = await page.evaluate(() => {
      const n = (window as unknown as { nudge: Record<string, (...a: unknown[]) => unknown> }).nudge
      n.track?.('ProductViewed', { productId: 'y' })
      n.identify?.('u-1', { userHash: 'f'.repeat(64) })
      n.page?.()
      n.reset?.()
      n.track?.('', null)
      n.init?.(null)
      return 'ok'
    })
    expect(result).toBe('ok')
    await page.waitForTimeout(800)
    expect(errors).toEqual([])
    expect(stack.calls).toHaveLength(0)
    await context.close()
  })
})

describe('GET /sdk.js', () => {
  it('serves the bundle with an ETag and Cache-Control, and 304 on revalidation', async () => {
    const stack = await startStack()
    const first = await fetch(`${stack.apiUrl}/sdk.js`)
    expect(first.status).toBe(200)
    expect(first.headers.get('content-type')).toContain('javascript')
    expect(first.headers.get('cache-control')).toBe('public, max-age=300')
    const etag = first.headers.get('etag') ?? ''
    expect(etag).toMatch(/^".+"$/)
    const again = await fetch(`${stack.apiUrl}/sdk.js`, { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
  })

  it('stays within the size budget: 30 KB minified, 8 KB gzip', async () => {
    const { code, bytes } = await bundleSdk()
    const gzip = gzipSync(code, { level: 9 }).length
    console.log(`sdk.js: ${bytes} bytes minified, ${gzip} bytes gzip`)
    expect(bytes).toBeLessThanOrEqual(30 * 1024)
    expect(gzip).toBeLessThanOrEqual(8 * 1024)
  })
})
