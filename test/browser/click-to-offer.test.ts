import { describe, expect, it } from 'vitest'
import { createRule } from '../../drizzle/queries/rules'
import { ruleInput } from '../../streams/rules'
import { EXAMPLE_RULES } from '../fixtures/rules'
import { testWorkers } from '../harness'
import { browserPerFile, snippetPage, startStack, waitFor } from './support'

const browser = browserPerFile()

const tiles = [1, 2, 3]
  .map(
    (n) =>
      `<button id="shoe-${n}" data-nudge-product-id="shoe-${n}" data-nudge-category="Shoes" data-nudge-price="59">Shoe ${n}</button>`,
  )
  .join('')

describe('click → offer on the page', () => {
  it('shows the shoe offer after three shoe clicks, once', async () => {
    const stack = await startStack({}, { live: true })
    await createRule(stack.db, {
      siteId: stack.site.site.id,
      spec: ruleInput.parse(EXAMPLE_RULES.shoesClicks),
      status: 'active',
      actor: 'test',
    })
    const workers = await testWorkers(stack)
    await workers.rules.reload()

    const url = stack.page(
      '/',
      snippetPage(stack, {
        init: { live: true, flushAt: 1, flushInterval: 50 },
        page: false,
        body: tiles,
      }),
    )
    const context = await browser().newContext()
    const page = await context.newPage()
    await page.goto(url)
    await waitFor(stack.liveConnections, (n) => n === 1)
    for (const n of [1, 2, 3]) {
      await page.click(`#shoe-${n}`)
    }
    const toast = page.locator('[role="status"]')
    await toast.getByText('10% off shoes').waitFor({ timeout: 15_000 })
    expect(await toast.textContent()).toContain('SHOES10')
    const shown = await waitFor(stack.log, (events) => events.some((e) => e.type === 'OfferShown'))
    expect(shown.filter((e) => e.type === 'ClickedProduct')).toHaveLength(3)

    await page.reload()
    await waitFor(stack.liveConnections, (n) => n === 1)
    await page.waitForTimeout(1_000)
    expect(await toast.count()).toBe(0)
    expect((await stack.log()).filter((e) => e.type === 'OfferShown')).toHaveLength(1)
    await context.close()
  })
})
