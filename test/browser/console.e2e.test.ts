import { describe, expect, it } from 'vitest'
import { signIn } from '../admin'
import { basic, testWorkers } from '../harness'
import {
  type ConsoleStack,
  fillShoeRule,
  openPage,
  screenshot,
  signInThroughForm,
} from './console-support'
import { browserPerFile, startStack, waitFor } from './support'

const browser = browserPerFile()

describe('console end to end', () => {
  it('builds, previews, activates, delivers and pauses the shoe rule', async () => {
    const stack = await startStack()
    await signIn(stack, stack.site.site.id)
    const workers = await testWorkers(stack)
    const url = stack.apiUrl
    const { page } = await openPage(browser())
    await signInThroughForm(page, { ...stack, url } as unknown as ConsoleStack)

    await page.getByRole('link', { name: 'New rule' }).first().click()
    await fillShoeRule(page, { url: 'https://shop.example/shoes' })
    await page.getByRole('button', { name: 'Save as draft' }).click()
    await page.waitForURL(/\/console\/rules\/rul_[^/?]+\?done=/)
    const id = new URL(page.url()).pathname.split('/').pop() as string

    await page.getByRole('link', { name: 'Preview' }).click()
    await expect(page.locator('[data-preview-count]').textContent()).resolves.toMatch(/^0 of 0/)
    page.once('dialog', (dialog) => void dialog.accept())
    await page.getByRole('button', { name: /Activate/ }).click()
    await page.waitForURL(/done=/)
    await workers.rules.reload()

    // Three shoe clicks through the ingest API, as a store's page would send them.
    const now = Date.now()
    const clicks = [1, 2, 3].map((n) => ({
      id: `console-e2e-${now}-${n}`,
      type: 'ClickedProduct',
      v: 1,
      anonymousId: 'shopper-1',
      ts: now - (3 - n) * 1000,
      context: { url: 'http://localhost:5173/products/shoe' },
      props: { productId: `shoe-${n}`, category: 'Shoes', price: 59 },
    }))
    const sent = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { authorization: basic(stack.site.writeKey), 'content-type': 'application/json' },
      body: JSON.stringify({ events: clicks }),
    })
    expect(sent.status, await sent.text()).toBe(200)

    const delivered = await waitFor(
      async () => {
        await page.goto(`${url}/console/rules`)
        return page.locator(`tr[data-rule="${id}"] [data-figure="delivered"]`).textContent()
      },
      (text) => text === '1',
      15_000,
    )
    expect(delivered).toBe('1')
    await screenshot(page, 'rules')

    await page.goto(`${url}/console/rules/${id}/results`)
    await expect(page.locator('[data-total="delivered"]').textContent()).resolves.toBe('1')

    await page.goto(`${url}/console/rules`)
    page.once('dialog', (dialog) => void dialog.accept())
    await page.locator(`tr[data-rule="${id}"]`).getByRole('button', { name: /Pause/ }).click()
    await page.waitForURL(/done=/)
    await expect(page.locator(`tr[data-rule="${id}"] .badge`).textContent()).resolves.toBe('paused')
  })
})
