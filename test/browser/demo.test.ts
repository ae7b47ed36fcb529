/**
 * The demo store in real Chromium: /demo pastes the README snippet, its tagged tiles and buttons
 * produce events, and its login proves the user (userHash from the server → user-bound token →
 * a verified UserLoggedIn).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createSite, DEMO_SITE_NAME } from '../../drizzle/queries/sites'
import { browserPerFile, startStack, waitFor } from './support'

const browser = browserPerFile()

const SNIPPET = readFileSync(new URL('../../web-sdk/snippet.html', import.meta.url), 'utf8')

describe('demo store', () => {
  it('is instrumented with the README snippet only', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    expect(readme).toContain(SNIPPET.trim())
  })

  it('sends views, clicks and carts, and proves a login through userHash', async () => {
    const stack = await startStack()
    const demo = await createSite(stack.db, {
      name: DEMO_SITE_NAME,
      allowedOrigins: ['http://localhost:*', 'http://127.0.0.1:*'],
      box: stack.box,
    })
    const context = await browser().newContext({ viewport: { width: 1000, height: 700 } })
    const page = await context.newPage()
    const res = await page.goto(`${stack.apiUrl}/demo`)
    expect(res?.status()).toBe(200)
    const html = (await res?.text()) ?? ''
    const pasted = SNIPPET.replace("'https://nudge.example.com'", JSON.stringify(stack.apiUrl))
      .replace("'wk_YOUR_WRITE_KEY'", JSON.stringify(demo.writeKey))
      .trim()
    expect(html).toContain(pasted)
    expect(await page.textContent('footer')).toContain('© OTTO (GmbH & Co KG), CC BY 4.0')

    await page.locator('.tile .add').first().click()
    await page.fill('#user', 'alice')
    await page.click('#login button')
    await page.waitForSelector('#logout:not([hidden])')
    // Flush now rather than after the batch interval.
    await page.evaluate(() => window.dispatchEvent(new Event('online')))
    const log = await waitFor(
      stack.log,
      (events) =>
        ['PageViewed', 'ProductViewed', 'ClickedProduct', 'AddedToCart', 'UserLoggedIn'].every(
          (type) => events.some((e) => e.type === type),
        ),
      10_000,
    )
    const types = new Set(log.map((e) => e.type))
    expect([...types].sort()).toEqual(
      expect.arrayContaining([
        'AddedToCart',
        'ClickedProduct',
        'PageViewed',
        'ProductViewed',
        'UserLoggedIn',
      ]),
    )
    expect(log.every((e) => e.siteId === demo.site.id)).toBe(true)
    const login = log.find((e) => e.type === 'UserLoggedIn')
    expect(login).toMatchObject({ userId: 'alice', verified: true })
    await context.close()
  })

  it('answers 404 when there is no demo site', async () => {
    const stack = await startStack()
    const res = await fetch(`${stack.apiUrl}/demo`)
    expect(res.status).toBe(404)
  })
})
