/**
 * Consent in real Chromium: with `requireConsent`, nothing is sent or stored (no cookie, no
 * localStorage) until `consent(true)`, which sends what was held (bounded); `consent(false)`
 * drops it and everything after.
 */
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { browserPerFile, snippetPage, startStack, waitFor } from './support'

const browser = browserPerFile()

type Nudge = {
  track(type: string, props?: object): void
  consent(granted: boolean): void
  ready(cb: () => void): void
}

function nudge(page: Page, script: string): Promise<void> {
  return page.evaluate(
    (body) => new Function('nudge', body)((window as unknown as { nudge: Nudge }).nudge),
    script,
  )
}

async function traces(page: Page): Promise<{ storage: string[]; cookies: string }> {
  return page.evaluate(() => ({
    storage: Object.keys(localStorage).filter((k) => k.startsWith('nudge')),
    cookies: document.cookie,
  }))
}

describe('consent', () => {
  it('holds events in memory, stores nothing, and sends them on consent(true)', async () => {
    const stack = await startStack()
    const url = stack.page(
      '/',
      snippetPage(stack, { init: { requireConsent: true, flushAt: 200, flushInterval: 100 } }),
    )
    const context = await browser().newContext()
    const page = await context.newPage()
    await page.goto(url)
    await nudge(
      page,
      `for (let i = 0; i < 120; i++) nudge.track('ProductViewed', { productId: 'p' + i })`,
    )
    await page.waitForTimeout(800)
    expect(stack.calls).toHaveLength(0)
    expect(await traces(page)).toEqual({ storage: [], cookies: '' })

    await nudge(page, 'nudge.consent(true)')
    // The page view and 120 views were held; only the newest 100 are kept.
    const log = await waitFor(stack.log, (events) => events.length >= 100)
    await page.waitForTimeout(300)
    expect((await stack.log()).length).toBe(100)
    const ids = log.map((e) => (e.props as { productId?: string }).productId)
    expect(ids).toContain('p119')
    expect(ids).not.toContain('p19')
    const after = await traces(page)
    expect(after.cookies).toContain('nudge_aid=')
    const aid = /nudge_aid=([^;]+)/.exec(after.cookies)?.[1]
    expect(new Set(log.map((e) => e.anonymousId))).toEqual(new Set([aid]))
    await context.close()
  })

  it('drops held events on consent(false) and sends nothing after it', async () => {
    const stack = await startStack()
    const url = stack.page(
      '/',
      snippetPage(stack, { init: { requireConsent: true, flushAt: 1, flushInterval: 50 } }),
    )
    const context = await browser().newContext()
    const page = await context.newPage()
    await page.goto(url)
    await nudge(page, `nudge.track('ProductViewed', { productId: 'held' })`)
    await nudge(page, 'nudge.consent(false)')
    await nudge(page, `nudge.track('ProductViewed', { productId: 'after' })`)
    await page.waitForTimeout(1_000)
    expect(stack.calls).toHaveLength(0)
    expect(await traces(page)).toEqual({ storage: [], cookies: '' })
    await context.close()
  })

  it('sends and stores from the start without requireConsent, writing each id once', async () => {
    const stack = await startStack()
    const url = stack.page('/', snippetPage(stack, { init: { flushAt: 1, flushInterval: 50 } }))
    const context = await browser().newContext()
    // Counts cookie writes by name: each one is a call to the browser process.
    await context.addInitScript(() => {
      const real = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie')
      const writes: string[] = []
      ;(window as unknown as { __cookieWrites: string[] }).__cookieWrites = writes
      Object.defineProperty(document, 'cookie', {
        get: () => real?.get?.call(document),
        set: (value: string) => {
          writes.push(value.split('=')[0] ?? '')
          real?.set?.call(document, value)
        },
      })
    })
    const page = await context.newPage()
    await page.goto(url)
    const log = await waitFor(stack.log, (events) => events.length >= 1)
    expect(log.map((e) => e.type)).toEqual(['PageViewed'])
    expect((await traces(page)).cookies).toContain('nudge_aid=')
    // A new id and a new session at start-up: one write of each, not one per step.
    const writes = await page.evaluate(
      () => (window as unknown as { __cookieWrites: string[] }).__cookieWrites,
    )
    expect(writes.sort()).toEqual(['nudge_aid', 'nudge_sid'])
    await context.close()
  })

  it('falls back to memory when the browser blocks storage, and still sends', async () => {
    const stack = await startStack()
    const url = stack.page('/', snippetPage(stack, { init: { flushAt: 2, flushInterval: 50 } }))
    const context = await browser().newContext()
    // As in a sandboxed iframe or with site data blocked: both throw on access.
    await context.addInitScript(() => {
      Object.defineProperty(window, 'localStorage', {
        get() {
          throw new DOMException('blocked', 'SecurityError')
        },
      })
      Object.defineProperty(document, 'cookie', {
        get() {
          throw new DOMException('blocked', 'SecurityError')
        },
        set() {
          throw new DOMException('blocked', 'SecurityError')
        },
      })
    })
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(url)
    await nudge(page, `nudge.track('ProductViewed', { productId: 'p1' })`)
    const log = await waitFor(stack.log, (events) => events.length >= 2)
    expect(log.map((e) => e.type).sort()).toEqual(['PageViewed', 'ProductViewed'])
    expect(new Set(log.map((e) => e.anonymousId)).size).toBe(1)
    expect(errors).toEqual([])
    await context.close()
  })
})
