import { describe, expect, it } from 'vitest'
import { browserPerFile, snippetPage, startStack, waitFor } from './support'

const browser = browserPerFile()

const TILES = `
  <style>.tile { height: 200px; width: 300px; }</style>
  <div class="tile" id="top" data-nudge-product-id="sku-top" data-nudge-category="Shoes" data-nudge-price="59.90"><span id="top-name">Runner</span></div>
  <div style="height: 3000px"></div>
  <div class="tile" id="flash" data-nudge-product-id="sku-flash">Flash</div>
  <div style="height: 3000px"></div>
  <div class="tile" id="deep" data-nudge-product-id="sku-deep" data-nudge-category="Bags">Bag</div>
  <div style="height: 3000px"></div>
  <p id="plain">not a product</p>`

type Event = { type: string; props: unknown }
const summary = (events: Event[]) =>
  events.map((e) => `${e.type}:${(e.props as { productId: string }).productId}`).sort()

describe('auto-tracking', () => {
  it('sends ProductViewed after one second at least half visible, once per element', async () => {
    const stack = await startStack()
    const url = stack.page(
      '/',
      snippetPage(stack, { init: { flushAt: 1, flushInterval: 50 }, page: false, body: TILES }),
    )
    const context = await browser().newContext({ viewport: { width: 800, height: 600 } })
    const page = await context.newPage()
    await page.goto(url)
    await page.waitForTimeout(600)
    expect(stack.calls).toHaveLength(0)
    const first = await waitFor(stack.log, (events) => events.length >= 1)
    expect(first.map((e) => [e.type, e.props])).toEqual([
      ['ProductViewed', { productId: 'sku-top', category: 'Shoes', price: 59.9 }],
    ])
    // Flashing by for 300 ms is no view; staying a second is one.
    await page.evaluate(() => document.getElementById('flash')?.scrollIntoView())
    await page.waitForTimeout(300)
    await page.evaluate(() => document.getElementById('deep')?.scrollIntoView())
    await page.waitForTimeout(1_500)
    // Back to the top: already seen, not sent again.
    await page.evaluate(() => window.scrollTo(0, 0))
    await page.waitForTimeout(1_300)
    expect(summary(await stack.log())).toEqual(['ProductViewed:sku-deep', 'ProductViewed:sku-top'])
    await context.close()
  })

  it('sends ClickedProduct for clicks inside a tile, including tiles added later', async () => {
    const stack = await startStack()
    const url = stack.page(
      '/',
      snippetPage(stack, {
        init: { flushAt: 1, flushInterval: 50 },
        page: false,
        body: TILES,
      }),
    )
    const context = await browser().newContext({ viewport: { width: 800, height: 600 } })
    const page = await context.newPage()
    await page.goto(url)
    await page.evaluate(
      () =>
        new Promise<void>((r) =>
          (window as unknown as { nudge: { ready(cb: () => void): void } }).nudge.ready(r),
        ),
    )
    await page.click('#top-name')
    await page.evaluate(() => {
      const tile = document.createElement('button')
      tile.id = 'late'
      tile.setAttribute('data-nudge-product-id', 'sku-late')
      tile.setAttribute('data-nudge-price', '5')
      tile.textContent = 'Late'
      document.body.prepend(tile)
      // The store stops the click's propagation; the capture listener still sees it.
      tile.addEventListener('click', (e) => e.stopPropagation())
    })
    await page.click('#late')
    // A click outside any tile is no product click (dispatched without scrolling the page).
    await page.evaluate(() => document.getElementById('plain')?.click())
    const log = await waitFor(
      stack.log,
      (events) => summary(events).filter((s) => s.startsWith('Clicked')).length >= 2,
    )
    const clicks = log.filter((e) => e.type === 'ClickedProduct')
    expect(clicks.map((e) => e.props)).toEqual([
      { productId: 'sku-top', category: 'Shoes', price: 59.9 },
      { productId: 'sku-late', price: 5 },
    ])
    // The late tile is observed too: a second in view makes it a ProductViewed.
    const views = await waitFor(stack.log, (events) =>
      summary(events).includes('ProductViewed:sku-late'),
    )
    expect(summary(views)).toContain('ProductViewed:sku-late')
    await context.close()
  })
})
