/**
 * Live offers in real Chromium through the real gateway (attached to the api's server, as
 * `nudge start` runs it): the default toast renders offer text as text, acks shown and
 * dismissed (keyboard), never shows an offer twice (reload), steps aside for an `onOffer`
 * renderer, and resumes after a gateway restart without losing or repeating an offer.
 */
import { createHmac } from 'node:crypto'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { testOffer } from '../live'
import { browserPerFile, type Stack, snippetPage, startStack, waitFor } from './support'

const browser = browserPerFile()

const anonymousIdOf = (page: Page) =>
  page.evaluate(() => /nudge_aid=([^;]+)/.exec(document.cookie)?.[1] ?? '')

/** Outcome events the gateway appended for these offer ids, as `<outcome>:<offerId>`. */
async function acks(stack: Stack): Promise<string[]> {
  return (await stack.log())
    .filter((e) => e.type.startsWith('Offer'))
    .map((e) => `${e.type}:${(e.props as { offerId: string }).offerId}`)
    .sort()
}

async function openStore(stack: Stack, head = ''): Promise<Page> {
  const url = stack.page(
    '/',
    snippetPage(stack, { init: { live: true, flushAt: 1, flushInterval: 50 }, page: false, head }),
  )
  const context = await browser().newContext()
  const page = await context.newPage()
  await page.goto(url)
  await waitFor(stack.liveConnections, (n) => n === 1)
  return page
}

describe('live offers', () => {
  it('shows an offer as text in an accessible toast, acks it, and never shows it again', async () => {
    const stack = await startStack({}, { live: true })
    const page = await openStore(stack)
    const offer = testOffer({
      title: '<img src=x onerror="window.__pwned=1">50% off',
      body: '<b>Today only</b>',
      code: 'SAVE50',
      cta: { label: 'Shop the sale', url: 'https://shop.example/sale' },
    })
    await stack.deliver(await anonymousIdOf(page), offer)

    const toast = page.locator('[role="status"]')
    await toast.waitFor()
    expect(await toast.textContent()).toContain('<img src=x onerror="window.__pwned=1">50% off')
    expect(await toast.textContent()).toContain('<b>Today only</b>')
    expect(await page.locator('[data-nudge-offer] img, [data-nudge-offer] b').count()).toBe(0)
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined()
    expect(await page.getByRole('link', { name: 'Shop the sale' }).getAttribute('href')).toBe(
      'https://shop.example/sale',
    )
    await waitFor(
      () => acks(stack),
      (a) => a.length >= 1,
    )

    // Keyboard only: focus the close button, Escape dismisses.
    await page.getByRole('button', { name: 'Dismiss offer' }).focus()
    await page.keyboard.press('Escape')
    await toast.waitFor({ state: 'detached' })
    expect(
      await waitFor(
        () => acks(stack),
        (a) => a.length >= 2,
      ),
    ).toEqual([`OfferDismissed:${offer.id}`, `OfferShown:${offer.id}`])

    await page.reload()
    await waitFor(stack.liveConnections, (n) => n === 1)
    await page.waitForTimeout(1_000)
    expect(await toast.count()).toBe(0)
    expect(await acks(stack)).toHaveLength(2)
    await page.context().close()
  })

  it('lets onOffer render instead of the toast, with its own acks', async () => {
    const stack = await startStack({}, { live: true })
    const page = await openStore(
      stack,
      `<script>
        nudge.onOffer(function (offer, ack) {
          var p = document.createElement('p'); p.id = 'mine'; p.textContent = offer.title
          document.body.append(p); ack('shown'); ack('clicked')
          return false
        })
      </script>`,
    )
    const offer = testOffer({ title: 'Rendered by the store' })
    await stack.deliver(await anonymousIdOf(page), offer)
    await page.locator('#mine').waitFor()
    expect(await page.locator('#mine').textContent()).toBe('Rendered by the store')
    expect(await page.locator('[data-nudge-offer]').count()).toBe(0)
    expect(
      await waitFor(
        () => acks(stack),
        (a) => a.length >= 2,
      ),
    ).toEqual([`OfferClicked:${offer.id}`, `OfferShown:${offer.id}`])
    await page.context().close()
  })

  it('reconnects after the gateway restarts and gets the offer decided meanwhile, once', async () => {
    const stack = await startStack({}, { live: true })
    const page = await openStore(stack)
    const aid = await anonymousIdOf(page)
    const first = testOffer({ title: 'First' })
    await stack.deliver(aid, first)
    await page.locator('[role="status"]').getByText('First').waitFor()

    await stack.restartGateway()
    const second = testOffer({ title: 'While away' })
    await stack.deliver(aid, second)
    await page.locator('[role="status"]').getByText('While away').waitFor({ timeout: 15_000 })
    const shown = await waitFor(
      () => acks(stack),
      (a) => a.length >= 2,
    )
    await page.waitForTimeout(500)
    expect(await acks(stack)).toEqual([`OfferShown:${first.id}`, `OfferShown:${second.id}`])
    expect(shown).toHaveLength(2)
    await page.context().close()
  })

  it('moves the socket to the user on a proven identify, and back on reset', async () => {
    const stack = await startStack({}, { live: true })
    const page = await openStore(stack)
    const aid = await anonymousIdOf(page)
    const userHash = createHmac('sha256', stack.site.secret).update('u-42').digest('hex')
    await page.evaluate(
      (hash) =>
        (window as unknown as { nudge: { identify(id: string, o: object): void } }).nudge.identify(
          'u-42',
          { userHash: hash },
        ),
      userHash,
    )
    const login = await waitFor(stack.log, (events) =>
      events.some((e) => e.type === 'UserLoggedIn'),
    )
    expect(login.find((e) => e.type === 'UserLoggedIn')).toMatchObject({
      userId: 'u-42',
      verified: true,
    })
    // The anonymous profile's offers no longer reach this socket; the user's do.
    await page.waitForTimeout(300)
    await stack.deliver(aid, testOffer({ title: 'For the anonymous visitor' }))
    await stack.deliver({ userId: 'u-42' }, testOffer({ title: 'For u-42' }))
    await page.locator('[role="status"]').getByText('For u-42').waitFor()
    expect(await page.getByText('For the anonymous visitor').count()).toBe(0)

    await page.evaluate(() => (window as unknown as { nudge: { reset(): void } }).nudge.reset())
    const fresh = await waitFor(
      () => anonymousIdOf(page),
      (id) => id !== aid,
    )
    await page.waitForTimeout(300)
    await stack.deliver(fresh, testOffer({ title: 'After logout' }))
    await page.locator('[role="status"]').getByText('After logout').waitFor()
    const out = await waitFor(stack.log, (events) => events.some((e) => e.type === 'UserLoggedOut'))
    expect(out.find((e) => e.type === 'UserLoggedOut')).toMatchObject({
      userId: 'u-42',
      verified: true,
    })
    await page.context().close()
  })
})
