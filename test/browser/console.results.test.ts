/**
 * From preview to results in the console, in real headless Chromium against the real api, with
 * the real workers pipeline run in process on the same Redis and PostgreSQL (test/offers.ts):
 * preview who a rule matches and why, activate it, send shoe clicks, see the delivered count move,
 * read one shopper's decision trace, and export the daily figures as CSV; plus the holdout
 * comparison on the results page.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { insertOutcomes } from '../../drizzle/queries/outcomes'
import { signIn } from '../admin'
import { shoesClicks } from '../fixtures/rules'
import { offersRig } from '../offers'
import { serveApp } from '../serve'
import {
  type ConsoleStack,
  consoleStack,
  openPage,
  screenshot,
  signInThroughForm,
} from './console-support'
import { browserPerFile } from './support'

const browser = browserPerFile()

const shoe = (n: number, category = 'Shoes') => ({ productId: `p-${n}`, category, price: 80 })

describe('console results', () => {
  it('previews a rule, activates it, and shows what it delivers', async () => {
    const rig = await offersRig()
    const admin = await signIn(rig, rig.siteId)
    const { url } = await serveApp(rig.app)
    const stack = { ...rig, url } as unknown as ConsoleStack
    const made = await rig.app.request('/v1/admin/rules', {
      method: 'POST',
      headers: { ...admin.headers, 'content-type': 'application/json' },
      body: JSON.stringify(shoesClicks),
    })
    const { id } = (await made.json()) as { id: string }
    const now = Date.now()
    const click = (who: string, n: number, category = 'Shoes') =>
      rig.event({
        type: 'ClickedProduct',
        anonymousId: who,
        ts: now - (5 - n) * 1000,
        props: shoe(n, category),
      } as never)
    // A draft sends nothing: these only build the two shoppers' profiles.
    await rig.run([click('shoe-fan', 1), click('shoe-fan', 2), click('shoe-fan', 3)])
    await rig.run([click('hat-fan', 1, 'Hats'), click('hat-fan', 2, 'Hats')])

    const { page } = await openPage(browser())
    await signInThroughForm(page, stack)
    await page.goto(`${url}/console/rules/${id}/preview`)
    await expect(page.locator('[data-preview-count]').textContent()).resolves.toMatch(
      /^1 of 2 current shopper/,
    )
    const hat = page.locator('tr', { hasText: 'a:hat-fan' })
    await expect(hat.textContent()).resolves.toContain('does not match')
    await expect(hat.textContent()).resolves.toContain('in the last 10m is at least 3 (was 0)')
    await screenshot(page, 'preview')

    // The editor previews the form as it stands, unsaved; a refused field is marked instead.
    await page.goto(`${url}/console/rules/${id}`)
    await page.getByRole('button', { name: 'Preview who it matches' }).click()
    await expect(page.locator('[data-draft-preview]').textContent()).resolves.toMatch(/^1 of 2/)
    await page.getByLabel('Button address').fill('not a link')
    await page.getByRole('button', { name: 'Preview who it matches' }).click()
    await expect(page.locator('#f-offer-cta-url-error').textContent()).resolves.toBe(
      'expected a full http:// or https:// address',
    )
    await expect(page.getByLabel('Button address').inputValue()).resolves.toBe('not a link')
    await page.goto(`${url}/console/rules/${id}/preview`)
    // Test on a profile before activation: a dry run of the conditions for one shopper.
    await page.getByLabel('Shopper').fill('a:hat-fan')
    await page.getByRole('button', { name: 'Show decisions' }).click()
    await expect(page.locator('[data-dry-run]').textContent()).resolves.toMatch(/^✗ no/)
    await page.getByLabel('Shopper').fill('a:shoe-fan')
    await page.getByRole('button', { name: 'Show decisions' }).click()
    await expect(page.locator('[data-dry-run]').textContent()).resolves.toMatch(/^✓ yes/)

    page.once('dialog', (dialog) => void dialog.accept())
    await page.getByRole('button', { name: /Activate/ }).click()
    await page.waitForURL(/done=/)
    await expect(page.getByRole('status').textContent()).resolves.toContain('is now active')
    await rig.rules.reload()

    await rig.run([click('shoe-fan', 4)])
    await page.goto(`${url}/console/rules`)
    await expect(
      page.locator(`tr[data-rule="${id}"] [data-figure="delivered"]`).textContent(),
    ).resolves.toBe('1')

    // Test on a profile: the decision trace of the shopper who got the offer.
    await page.goto(`${url}/console/rules/${id}/preview`)
    await page.getByLabel('Shopper').fill('a:shoe-fan')
    await page.getByRole('button', { name: 'Show decisions' }).click()
    await page.waitForURL(/shopper=a%3Ashoe-fan/)
    const traces = page.locator('ol.traces > li')
    await expect(traces.first().textContent()).resolves.toMatch(/ClickedProduct.*decision: offer/)
    await page.getByLabel('Shopper').fill('nobody')
    await page.getByRole('button', { name: 'Show decisions' }).click()
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/u:|a:/)
    await expect(page.getByLabel('Shopper').inputValue()).resolves.toBe('nobody')

    await page.goto(`${url}/console/rules/${id}/results`)
    await expect(page.locator('[data-total="delivered"]').textContent()).resolves.toBe('1')
    await expect(page.locator('svg.chart polyline').count()).resolves.toBe(4)
    await screenshot(page, 'results')
    const download = page.waitForEvent('download')
    await page.getByRole('link', { name: /Download CSV/ }).click()
    const csv = readFileSync((await (await download).path()) as string, 'utf8').split('\r\n')
    expect(csv[0]).toBe('day,delivered,holdout,shown,clicked,dismissed,converted,holdoutConverted')
    expect(csv).toHaveLength(32)
    expect(csv[30]).toBe(`${new Date().toISOString().slice(0, 10)},1,0,0,0,0,0,0`)
  })

  it('compares the rule with its holdout, day by day', async () => {
    const stack = await consoleStack()
    const made = await stack.call(stack.admin, 'POST', '/v1/admin/rules', {
      ...shoesClicks,
      holdoutPercent: 50,
    })
    const { id } = (await made.json()) as { id: string }
    const day = 86_400_000
    const base = { siteId: stack.site.site.id, ruleId: id, ruleVersion: 1, profileKey: 'x' }
    const rows = [0, 1, 2].flatMap((d) => {
      const at = new Date(Date.now() - d * day)
      return [
        ...['delivered', 'shown', 'clicked', 'converted'].map((kind) => ({
          ...base,
          at,
          offerId: `o${d}`,
          kind: kind as 'delivered',
        })),
        { ...base, at, offerId: `o${d}b`, kind: 'delivered' as const },
        { ...base, at, offerId: `h${d}`, kind: 'holdout' as const },
        { ...base, at, offerId: `h${d}b`, kind: 'holdout' as const },
        { ...base, at, offerId: `h${d}`, kind: 'converted' as const },
      ]
    })
    await insertOutcomes(stack.db, rows)
    const { page } = await openPage(browser())
    await signInThroughForm(page, stack)
    await page.goto(`${stack.url}/console/rules/${id}/results`)
    const figures = await page.locator('dl.figures').textContent()
    // 3 of 6 offered converted (50%) against 3 of 6 held out (50%): no lift.
    expect(figures).toContain('Delivered6')
    expect(figures).toContain('Conversion (offer sent)50.0%')
    expect(figures).toContain('Conversion (holdout)50.0%')
    expect(figures).toContain('Lift over holdout+0.0%')
    const res = await page.request.get(`${stack.url}/console/rules/${id}/results.csv?days=3`)
    expect(res.headers()['content-type']).toContain('text/csv')
    expect((await res.text()).split('\r\n').slice(1, 4)).toEqual(
      [2, 1, 0].map(
        (d) => `${new Date(Date.now() - d * day).toISOString().slice(0, 10)},2,2,1,1,0,1,1`,
      ),
    )
  })
})
