/**
 * The server-set first-party cookie: a browser whose stored ids were wiped (Safari's 7-day limit
 * on script-set storage) comes back as the same shopper when Nudge is served same-site and the
 * SDK runs with `restoreId: true`.
 */
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { browserPerFile, snippetPage, startStack, waitFor } from './support'

const browser = browserPerFile()

type Nudge = { track(type: string, props?: object): void; ready(cb: () => void): void }

async function trackOne(page: Page, productId: string): Promise<void> {
  await page.evaluate(
    () => new Promise<void>((r) => (window as unknown as { nudge: Nudge }).nudge.ready(r)),
  )
  await page.evaluate((id) => {
    ;(window as unknown as { nudge: Nudge }).nudge.track('ProductViewed', { productId: id })
  }, productId)
}

/** What scripts can wipe (and Safari does after 7 days): localStorage and script cookies. */
async function wipeStorage(page: Page): Promise<void> {
  await page.evaluate(() => {
    localStorage.clear()
    for (const part of document.cookie.split(';')) {
      const name = part.split('=')[0]?.trim()
      if (name) {
        document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`
      }
    }
  })
}

describe('restoring the anonymousId from the first-party cookie', () => {
  it('brings a wiped browser back as the same shopper; another browser stays another', async () => {
    const stack = await startStack()
    // The api on localhost as well: same site as the store page (ports do not matter).
    const host = stack.apiUrl.replace('127.0.0.1', 'localhost')
    const url = stack.page(
      '/',
      snippetPage(stack, {
        init: { host, restoreId: true, flushAt: 1, flushInterval: 50 },
        page: false,
      }),
    )
    const anonymousIdOf = async (productId: string) => {
      const log = await waitFor(stack.log, (events) =>
        events.some((e) => (e.props as { productId?: string }).productId === productId),
      )
      return log.find((e) => (e.props as { productId?: string }).productId === productId)
        ?.anonymousId
    }

    const context = await browser().newContext()
    const page = await context.newPage()
    await page.goto(url)
    await trackOne(page, 'first-visit')
    const first = await anonymousIdOf('first-visit')
    expect(first).toBeTruthy()

    await wipeStorage(page)
    await page.reload()
    await trackOne(page, 'after-wipe')
    expect(await anonymousIdOf('after-wipe')).toBe(first)
    const cookies = await context.cookies(host)
    expect(cookies.find((c) => c.name === 'nudge_srv_aid')).toMatchObject({
      value: first,
      httpOnly: true,
    })

    const other = await browser().newContext()
    const otherPage = await other.newPage()
    await otherPage.goto(url)
    await trackOne(otherPage, 'other-browser')
    const second = await anonymousIdOf('other-browser')
    expect(second).toBeTruthy()
    expect(second).not.toBe(first)
    await context.close()
    await other.close()
  })
})
