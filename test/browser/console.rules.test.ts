import { describe, expect, it } from 'vitest'
import { diffRules } from '../../console/rule-diff'
import { type RuleInput, ruleInput } from '../../streams/rules'
import { shoesClicks } from '../fixtures/rules'
import {
  type ConsoleStack,
  consoleStack,
  fieldById,
  fillShoeRule,
  openPage,
  screenshot,
  scrollsSideways,
  signInThroughForm,
} from './console-support'
import { browserPerFile } from './support'

const browser = browserPerFile()

const byId = fieldById

async function storedRule(stack: ConsoleStack, id: string) {
  const res = await stack.call(stack.admin, 'GET', `/v1/admin/rules/${id}`)
  return (await res.json()) as Record<string, unknown> & { status: string; version: number }
}

async function createRule(stack: ConsoleStack, rule: RuleInput): Promise<string> {
  const res = await stack.call(stack.admin, 'POST', '/v1/admin/rules', rule)
  return ((await res.json()) as { id: string }).id
}

describe('console rules', () => {
  it('builds the shoe-clicks rule through the form, showing a refused field and keeping the input', async () => {
    const stack = await consoleStack()
    const { page } = await openPage(browser())
    await signInThroughForm(page, stack)
    await page.getByRole('link', { name: 'New rule' }).first().click()
    await page.waitForURL(/\/console\/rules\/new$/)

    await fillShoeRule(page, { url: 'shop.example/shoes' })
    // The toast preview follows the typing.
    await expect(page.locator('[data-preview-target="offer.title"]').textContent()).resolves.toBe(
      '10% off shoes',
    )
    await expect(page.locator('[data-preview-target="offer.code"]').textContent()).resolves.toBe(
      'SHOES10',
    )
    await screenshot(page, 'editor-filled')

    await page.getByRole('button', { name: 'Save as draft' }).click()
    await page.waitForLoadState()
    const error = page.locator('#f-offer-cta-url-error')
    await expect(error.textContent()).resolves.toBe('expected a full http:// or https:// address')
    await expect(byId(page, 'offer.cta.url').getAttribute('aria-invalid')).resolves.toBe('true')
    await expect(page.getByRole('alert').textContent()).resolves.toContain(
      'Offer › button › address',
    )
    await screenshot(page, 'editor-refused')
    // Everything typed is still there.
    await expect(byId(page, 'offer.cta.url').inputValue()).resolves.toBe('shop.example/shoes')
    await expect(byId(page, 'conditions.conditions.0.where.0.value').inputValue()).resolves.toBe(
      'shoes',
    )
    await expect(byId(page, 'conditions.conditions.0.value').inputValue()).resolves.toBe('3')
    await expect(byId(page, 'conditions.conditions.1.condition.within').inputValue()).resolves.toBe(
      'today',
    )
    await expect(page.getByLabel('Title').inputValue()).resolves.toBe('10% off shoes')

    await byId(page, 'offer.cta.url').fill('https://shop.example/shoes')
    await page.getByRole('button', { name: 'Save as draft' }).click()
    await page.waitForURL(/\/console\/rules\/rul_[^/?]+\?done=/)
    await expect(page.getByText('Saved as a draft.').isVisible()).resolves.toBe(true)
    const id = new URL(page.url()).pathname.split('/').pop() as string
    const stored = await storedRule(stack, id)
    expect(stored.status).toBe('draft')
    const { id: _id, status, version, createdAt, updatedAt, updatedBy, ...spec } = stored
    expect(updatedBy).toBe('admin@shop.example')
    expect(diffRules(ruleInput.parse(shoesClicks), spec)).toEqual([])
  })

  it('builds conditions and reports refusals without the script too', async () => {
    const stack = await consoleStack()
    const { page } = await openPage(browser(), { width: 360, height: 740 }, { javaScript: false })
    await signInThroughForm(page, stack)
    await page.goto(`${stack.url}/console/rules/new`)
    await page.getByLabel('Name', { exact: true }).fill('Big spenders on /products/')
    await page.getByRole('button', { name: 'Add condition' }).click()
    await byId(page, 'conditions.conditions.0.kind').selectOption('page')
    await page.getByRole('button', { name: 'Update condition 1' }).click()
    await byId(page, 'conditions.conditions.0.value').fill('/products/')
    await expect(page.getByLabel('Name', { exact: true }).inputValue()).resolves.toBe(
      'Big spenders on /products/',
    )
    // Enter in a text field saves (the form's default button), as in any form.
    await page.getByLabel('Name', { exact: true }).press('Enter')
    await expect(page.locator('#f-offer-title-error').textContent()).resolves.toBe(
      'the title cannot be empty',
    )
    await expect(byId(page, 'conditions.conditions.0.value').inputValue()).resolves.toBe(
      '/products/',
    )
    expect(await scrollsSideways(page)).toBe(false)

    // Pausing and activating ask first on a page of their own.
    const id = await createRule(stack, shoesClicks)
    await page.goto(`${stack.url}/console/rules`)
    await page
      .locator(`tr[data-rule="${id}"]`)
      .getByRole('button', { name: /Activate/ })
      .click()
    await expect(page.getByText('Activate “Shoe browser: 10% off”?').isVisible()).resolves.toBe(
      true,
    )
    expect((await storedRule(stack, id)).status).toBe('draft')
    await page.getByRole('button', { name: 'Activate' }).click()
    await page.waitForURL(/done=/)
    expect((await storedRule(stack, id)).status).toBe('active')
  })

  it('activates and pauses a rule in one click, after a confirmation', async () => {
    const stack = await consoleStack()
    const id = await createRule(stack, shoesClicks)
    const { page } = await openPage(browser())
    await signInThroughForm(page, stack)
    const row = page.locator(`tr[data-rule="${id}"]`)

    page.once('dialog', (dialog) => {
      expect(dialog.message()).toContain('Activate “Shoe browser: 10% off”?')
      void dialog.accept()
    })
    await row.getByRole('button', { name: /Activate/ }).click()
    await page.waitForURL(/done=/)
    await expect(page.getByRole('status').textContent()).resolves.toContain('is now active')
    await expect(row.locator('.badge').textContent()).resolves.toBe('active')
    expect((await storedRule(stack, id)).status).toBe('active')

    // Cancelling the confirmation changes nothing.
    page.once('dialog', (dialog) => void dialog.dismiss())
    await row.getByRole('button', { name: /Pause/ }).click()
    await page.waitForTimeout(200)
    expect((await storedRule(stack, id)).status).toBe('active')

    page.once('dialog', (dialog) => void dialog.accept())
    await row.getByRole('button', { name: /Pause/ }).click()
    await page.waitForURL(/is%20now%20paused|now paused/)
    await expect(row.locator('.badge').textContent()).resolves.toBe('paused')
    expect((await storedRule(stack, id)).status).toBe('paused')
    await page.getByLabel('Status').selectOption('active')
    await page.waitForURL(/status=active/)
    await expect(page.locator(`tr[data-rule="${id}"]`).count()).resolves.toBe(0)

    // Archived from the rule's page: gone from the list, still under the "archived" filter.
    await page.goto(`${stack.url}/console/rules/${id}`)
    page.once('dialog', (dialog) => void dialog.accept())
    await page.getByRole('button', { name: 'Archive' }).click()
    await page.waitForURL(/\/console\/rules\?done=/)
    await expect(page.locator(`tr[data-rule="${id}"]`).count()).resolves.toBe(0)
    await page.getByLabel('Status').selectOption('archived')
    await page.waitForURL(/status=archived/)
    await expect(page.locator(`tr[data-rule="${id}"] .badge`).textContent()).resolves.toBe(
      'archived',
    )
  })

  it('saves a change as a new version and shows the difference with who made it', async () => {
    const stack = await consoleStack()
    const id = await createRule(stack, shoesClicks)
    const { page } = await openPage(browser())
    await signInThroughForm(page, stack)
    await page.goto(`${stack.url}/console/rules/${id}`)
    await page.getByLabel('Title').fill('15% off shoes')
    await byId(page, 'conditions.conditions.0.value').fill('4')
    await page.getByRole('button', { name: 'Save as a new version' }).click()
    await page.waitForURL(/done=/)
    await expect(page.getByText('Saved as version 2.').isVisible()).resolves.toBe(true)

    await page.getByRole('link', { name: 'History' }).click()
    const diff = page.locator('table.diff')
    await expect(diff.textContent()).resolves.toContain('Offer › title')
    const rows = await diff.locator('tbody tr').allTextContents()
    expect(rows).toEqual([
      expect.stringMatching(/^Conditions › #1 › value34$/),
      expect.stringMatching(/^Offer › title10% off shoes15% off shoes$/),
    ])
    await expect(page.locator('table').first().textContent()).resolves.toContain(
      'admin@shop.example',
    )
    await screenshot(page, 'versions')

    // Restoring an old version saves its settings again, as a new version.
    await page.getByRole('button', { name: 'Restore version 1' }).click()
    await page.waitForURL(/done=/)
    await expect(page.getByText('Version 1 restored as version 3.').isVisible()).resolves.toBe(true)
    await expect(page.getByLabel('Title').inputValue()).resolves.toBe('10% off shoes')
  })
})
