/**
 * @module Console browser-test support: the real api (test/admin.ts: an admin signed in through
 * the API, a second site) served on a loopback port, signing in through the console's own form,
 * and screenshots of the main pages kept under .data/screenshots/console (git-ignored) as test
 * artifacts.
 */
import { mkdirSync } from 'node:fs'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { expect, onTestFinished } from 'vitest'
import { adminApi, PASSWORD, signIn } from '../admin'
import { serveApp } from '../serve'

export const SCREENSHOTS = new URL('../../.data/screenshots/console/', import.meta.url).pathname

/** The api with the console, on a real port; `url` is its origin. */
export async function consoleStack() {
  const t = await adminApi()
  const { url } = await serveApp(t.app)
  return { ...t, url }
}

export type ConsoleStack = Awaited<ReturnType<typeof consoleStack>>

/**
 * A fresh browser context (closed when the test ends), desktop-sized unless told otherwise;
 * `javaScript: false` shows what the console does without its script.
 */
export async function openPage(
  browser: Browser,
  viewport = { width: 1280, height: 900 },
  opts: { javaScript?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport,
    javaScriptEnabled: opts.javaScript ?? true,
  })
  onTestFinished(() => context.close())
  const page = await context.newPage()
  page.setDefaultTimeout(8_000)
  return { context, page }
}

/** Signs in through the console's form as `email` (made by adminApi / signIn). */
export async function signInThroughForm(
  page: Page,
  stack: ConsoleStack,
  email = 'admin@shop.example',
): Promise<void> {
  await page.goto(`${stack.url}/console/sign-in`)
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(/\/console\/rules/)
}

/** A viewer account on the stack's site (its password is PASSWORD). */
export async function makeViewer(stack: ConsoleStack) {
  return signIn(stack, stack.site.site.id, 'viewer', 'viewer@shop.example')
}

/** Keeps a full-page screenshot of the current page as a test artifact. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true })
}

/** True when the page scrolls sideways (its content is wider than the viewport). */
export function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate(
    () => document.documentElement.scrollWidth > document.documentElement.clientWidth,
  )
}

/** The input of a rule path in the editor (inputs are named and identified by their path). */
export function fieldById(page: Page, path: string) {
  return page.locator(`#f-${path.replace(/\./g, '-')}`)
}

/**
 * Fills the open rule editor with the "3 shoe clicks within 10 minutes, no order today" rule
 * (test/fixtures/rules.ts shoesClicks), through the form only: the condition builder's buttons
 * and kind list, then the offer with the given button address.
 */
export async function fillShoeRule(page: Page, opts: { url: string }): Promise<void> {
  await page.getByLabel('Name', { exact: true }).fill('Shoe browser: 10% off')
  await page.getByLabel('Priority').fill('200')
  await page.getByLabel('Trigger event').selectOption('ClickedProduct')

  // Condition 1: at least 3 ClickedProduct whose category is shoes, within 10 minutes.
  await page.getByRole('button', { name: 'Add condition' }).click()
  // The new condition takes the focus, so keyboard users carry on where it appeared.
  await fieldById(page, 'conditions.conditions.0.kind').waitFor()
  await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe(
    'f-conditions-conditions-0-kind',
  )
  await fieldById(page, 'conditions.conditions.0.event').selectOption('ClickedProduct')
  await page.getByRole('button', { name: /Add a filter/ }).click()
  await fieldById(page, 'conditions.conditions.0.where.0.field').selectOption('category')
  await fieldById(page, 'conditions.conditions.0.where.0.op').selectOption('eq')
  await fieldById(page, 'conditions.conditions.0.where.0.value').fill('shoes')
  await fieldById(page, 'conditions.conditions.0.op').selectOption('gte')
  await fieldById(page, 'conditions.conditions.0.value').fill('3')
  await fieldById(page, 'conditions.conditions.0.within').fill('10m')

  // Condition 2: not (an OrderCompleted today) — a nested group chosen from the kind list.
  await page.getByRole('button', { name: 'Add condition' }).last().click()
  await fieldById(page, 'conditions.conditions.1.kind').selectOption('not')
  await fieldById(page, 'conditions.conditions.1.condition.event').waitFor()
  await fieldById(page, 'conditions.conditions.1.condition.event').selectOption('OrderCompleted')
  await fieldById(page, 'conditions.conditions.1.condition.within').fill('today')
  await fieldById(page, 'conditions.conditions.1.condition.value').fill('1')

  await page.getByLabel('Title').fill('10% off shoes')
  await page.getByLabel('Text', { exact: true }).fill('Use code SHOES10 at checkout today.')
  await page.getByLabel('Button label').fill('Shop shoes')
  await page.getByLabel('Button address').fill(opts.url)
  await page.getByLabel('Discount code').fill('SHOES10')
  await fieldById(page, 'caps.perShopper.count').fill('1')
  await fieldById(page, 'caps.perShopper.period').fill('1d')
}
