/**
 * Delivery in real Chromium against the real api: events survive the page going away, wait in
 * localStorage while the network is gone and are sent once when it is back (two tabs open),
 * retries honour Retry-After on 429 and 503, and 4xx answers drop the batch instead of retrying.
 */
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { TEST_REDIS_URL } from '../redis'
import { tcpProxy } from '../tcp-proxy'
import { browserPerFile, snippetPage, startStack, waitFor } from './support'

const browser = browserPerFile()

type Nudge = { track(type: string, props?: object): void; ready(cb: () => void): void }

async function ready(page: Page): Promise<void> {
  await page.evaluate(
    () => new Promise<void>((r) => (window as unknown as { nudge: Nudge }).nudge.ready(r)),
  )
}

function track(page: Page, type: string, ids: string[]): Promise<void> {
  return page.evaluate(
    ([t, list]) => {
      for (const productId of list as string[]) {
        ;(window as unknown as { nudge: Nudge }).nudge.track(t as string, { productId })
      }
    },
    [type, ids] as const,
  )
}

/** Events waiting in this origin's localStorage queues (every tab's), by product id. */
function stored(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = []
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i) ?? ''
      if (key.startsWith('nudge_q.')) {
        const q = JSON.parse(localStorage.getItem(key) ?? '{}') as {
          e: { props: { productId: string } }[]
        }
        out.push(...q.e.map((e) => e.props.productId))
      }
    }
    return out.sort()
  })
}

function productIds(events: { props: unknown }[]): string[] {
  return events.map((e) => (e.props as { productId: string }).productId).sort()
}

describe('delivery', () => {
  it('delivers a click made right before the page goes away, exactly once', async () => {
    const stack = await startStack()
    const away = stack.page('/away', '<p>elsewhere</p>').replace('localhost', '127.0.0.1')
    const url = stack.page(
      '/',
      snippetPage(stack, {
        init: { flushAt: 50, flushInterval: 60_000 },
        page: false,
        body: `<a id="tile" href="${away}" data-nudge-product-id="sku-away" data-nudge-price="19.9">Shoe</a>`,
      }),
    )
    const context = await browser().newContext()
    const page = await context.newPage()
    await page.goto(url)
    await ready(page)
    // The click is auto-tracked and the link leaves the store at once: only the page-hide
    // flush (keepalive) can carry it, since the batch timer is a minute away.
    await page.click('#tile')
    await page.waitForURL(away)
    const log = await waitFor(stack.log, (events) => events.length >= 1)
    expect(log.map((e) => [e.type, (e.props as { productId: string }).productId])).toEqual([
      ['ClickedProduct', 'sku-away'],
    ])
    expect(stack.sentIds()).toHaveLength(1)
    await context.close()
  })

  it('keeps events in localStorage while offline and sends them once when back, with two tabs open', async () => {
    const stack = await startStack()
    const url = stack.page(
      '/',
      snippetPage(stack, {
        init: { flushAt: 1, flushInterval: 100, maxRetryDelay: 500 },
        page: false,
      }),
    )
    const context = await browser().newContext()
    const tabA = await context.newPage()
    const tabB = await context.newPage()
    await tabA.goto(url)
    await tabB.goto(url)
    await ready(tabA)
    await ready(tabB)

    await context.setOffline(true)
    await track(tabA, 'ProductViewed', ['a1', 'a2', 'a3'])
    await track(tabB, 'ProductViewed', ['b1', 'b2'])
    await tabA.waitForTimeout(300)
    expect(await stored(tabA)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2'])
    // Tab A is closed while offline; its queue stays behind for the store's next page.
    const closed = tabA.waitForEvent('close')
    await tabA.close({ runBeforeUnload: true })
    await closed
    expect(await stored(tabB)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2'])
    // A closing tab's keepalive request is sent by the browser process, which Chromium's
    // offline emulation (a per-page setting) does not always cover: tab A's page-hide flush may
    // get through. Its queue then stays behind (the page cannot see the answer) and is sent
    // again by the next page, which the server's dedup absorbs: at-least-once for requests in
    // flight at unload, as the README says. What must never happen is two live tabs sending
    // the same queue, so resends are counted only from here on.
    const before = stack.calls.length

    await context.setOffline(false)
    const tabC = await context.newPage()
    await tabC.goto(url)
    const log = await waitFor(stack.log, (events) => events.length >= 5)
    expect(productIds(log)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2'])
    await tabB.waitForTimeout(6_000)
    // Tab B's heartbeat timer and tab C's start both looked at tab A's queue: one sent it.
    expect(productIds(await stack.log())).toEqual(['a1', 'a2', 'a3', 'b1', 'b2'])
    const after = stack.calls.slice(before).flatMap((c) => c.ids)
    expect(after.length, JSON.stringify(stack.calls)).toBe(new Set(after).size)
    expect(await stored(tabB)).toEqual([])
    await context.close()
  })

  it('sends what waited in localStorage once the page reloads and the api answers again', async () => {
    // The api is up but cannot store (Redis unreachable): it answers 503, so nothing is kept.
    const proxy = await tcpProxy(Number(new URL(TEST_REDIS_URL).port || 6379))
    const stack = await startStack(
      { NUDGE_REDIS_TIMEOUT: '300ms' },
      { redisUrl: `redis://127.0.0.1:${proxy.port}` },
    )
    const url = stack.page(
      '/',
      snippetPage(stack, {
        init: { flushAt: 1, flushInterval: 100, maxRetryDelay: 300 },
        page: false,
      }),
    )
    const context = await browser().newContext()
    const page = await context.newPage()
    await page.goto(url)
    await ready(page)
    proxy.down()
    await track(page, 'ProductViewed', ['r1', 'r2'])
    await waitFor(
      () => stack.calls,
      (c) => c.length >= 1,
    )
    // Queue writes to localStorage are coalesced (25 ms), so poll rather than read once.
    expect(
      await waitFor(
        () => stored(page),
        (s) => s.length === 2,
      ),
    ).toEqual(['r1', 'r2'])
    // The reload's page-hide flush gets a 503 too; the new page adopts the queue.
    await page.reload()
    await ready(page)
    expect(await stored(page)).toEqual(['r1', 'r2'])
    proxy.up()
    const log = await waitFor(stack.log, (events) => events.length >= 2, 10_000)
    expect(productIds(log)).toEqual(['r1', 'r2'])
    await page.waitForTimeout(500)
    const accepted = stack.calls.filter((c) => c.status === 200)
    expect(accepted.flatMap((c) => c.ids)).toHaveLength(2)
    expect(accepted.every((c) => c.answer?.duplicates === 0)).toBe(true)
    expect(await stored(page)).toEqual([])
    await context.close()
  })

  it('waits Retry-After on 429 before sending again, then delivers', async () => {
    const stack = await startStack({ NUDGE_RATE_SITE: '1', NUDGE_RATE_SITE_BURST: '3' })
    const url = stack.page(
      '/',
      snippetPage(stack, {
        init: { flushAt: 3, flushInterval: 100, maxRetryDelay: 500 },
        page: false,
      }),
    )
    const context = await browser().newContext()
    const page = await context.newPage()
    await page.goto(url)
    await ready(page)
    await track(page, 'ProductViewed', ['p1', 'p2', 'p3'])
    await waitFor(
      () => stack.calls,
      (c) => c.length >= 1,
    )
    await track(page, 'ProductViewed', ['p4', 'p5', 'p6'])
    const calls = await waitFor(
      () => stack.calls,
      (c) => c.filter((x) => x.status === 200).length >= 2,
      10_000,
    )
    expect(calls.map((c) => c.status)).toEqual([200, 429, 200])
    const [, limited, retried] = calls
    // Three tokens at one per second: the api said Retry-After: 3.
    expect((retried?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(2_900)
    expect(productIds(await stack.log())).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6'])
    await context.close()
  })

  it('waits Retry-After on 503 (Redis unreachable) and delivers once Redis is back', async () => {
    const proxy = await tcpProxy(Number(new URL(TEST_REDIS_URL).port || 6379))
    const stack = await startStack(
      { NUDGE_REDIS_TIMEOUT: '300ms' },
      { redisUrl: `redis://127.0.0.1:${proxy.port}` },
    )
    const url = stack.page(
      '/',
      snippetPage(stack, {
        init: { flushAt: 1, flushInterval: 100, maxRetryDelay: 200 },
        page: false,
      }),
    )
    const context = await browser().newContext()
    const page = await context.newPage()
    await page.goto(url)
    await ready(page)
    proxy.down()
    await track(page, 'ProductViewed', ['r1'])
    await waitFor(
      () => stack.calls,
      (c) => c.length >= 2,
    )
    proxy.up()
    const calls = await waitFor(
      () => stack.calls,
      (c) => c.some((x) => x.status === 200),
      10_000,
    )
    const statuses = calls.map((c) => c.status)
    expect(statuses.slice(0, -1).every((s) => s === 503)).toBe(true)
    expect(statuses.at(-1)).toBe(200)
    // maxRetryDelay is 200 ms, but every 503 said Retry-After: 1.
    for (let i = 1; i < calls.length; i++) {
      expect((calls[i]?.at ?? 0) - (calls[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(950)
    }
    expect(productIds(await stack.log())).toEqual(['r1'])
    await context.close()
  })

  it('drops a batch the api refuses with a 4xx instead of retrying, and keeps valid events', async () => {
    const stack = await startStack()
    const url = stack.page(
      '/',
      snippetPage(stack, {
        init: { flushAt: 1, flushInterval: 100, maxRetryDelay: 200, debug: true },
        page: false,
      }),
    )
    const context = await browser().newContext()
    const page = await context.newPage()
    const warnings: string[] = []
    page.on('console', (m) => warnings.push(m.text()))
    await page.goto(url)
    await ready(page)
    // No productId: every event of the batch is invalid → 400 INVALID_EVENTS.
    await page.evaluate(() =>
      (window as unknown as { nudge: Nudge }).nudge.track('ProductViewed', { price: 'cheap' }),
    )
    await waitFor(
      () => stack.calls,
      (c) => c.length >= 1,
    )
    await page.waitForTimeout(1_000)
    expect(stack.calls.map((c) => c.status)).toEqual([400])
    expect(await stored(page)).toEqual([])
    expect(warnings.join('\n')).toContain('dropped 1 events: 400')
    await context.close()
  })
})
