import { describe, expect, it } from 'vitest'
import { shoesClicks } from '../fixtures/rules'
import {
  consoleStack,
  makeViewer,
  openPage,
  screenshot,
  scrollsSideways,
  signInThroughForm,
} from './console-support'
import { browserPerFile } from './support'

const browser = browserPerFile()

describe('console session', () => {
  it('sends a signed-out visitor to sign in, signs in, and signs out', async () => {
    const stack = await consoleStack()
    const { page } = await openPage(browser())
    await page.goto(`${stack.url}/console/rules?status=active`)
    expect(new URL(page.url()).pathname).toBe('/console/sign-in')
    await expect(page.getByText('Please sign in').isVisible()).resolves.toBe(true)
    await screenshot(page, 'sign-in')

    await page.getByLabel('Email').fill('admin@shop.example')
    await page.getByLabel('Password').fill('not the password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect(page.getByRole('alert').textContent()).resolves.toContain(
      'Email or password is wrong',
    )
    await expect(page.getByLabel('Email').inputValue()).resolves.toBe('admin@shop.example')

    // By keyboard alone: Tab to the password (focus visible), type, Enter.
    await page.getByLabel('Email').focus()
    await page.keyboard.press('Tab')
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement
      return { id: el.id, outline: getComputedStyle(el).outlineStyle }
    })
    expect(focused).toEqual({ id: 'password', outline: 'solid' })
    await page.keyboard.type('correct horse battery')
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/console\/rules\?status=active$/)
    await expect(page.getByRole('heading', { name: 'Offer rules' }).isVisible()).resolves.toBe(true)
    await expect(page.locator('header').textContent()).resolves.toContain('admin@shop.example')

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL(/\/console\/sign-in\?out=1/)
    await expect(page.getByText('You are signed out').isVisible()).resolves.toBe(true)
    await page.goto(`${stack.url}/console/rules`)
    expect(new URL(page.url()).pathname).toBe('/console/sign-in')
  })

  it('sends a person whose session ended back to sign in, then to where they were going', async () => {
    const stack = await consoleStack()
    const { page, context } = await openPage(browser())
    await signInThroughForm(page, stack)
    // End the session behind the browser's back, with its own cookie and CSRF token.
    const csrf = await page.locator('meta[name="csrf-token"]').getAttribute('content')
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ')
    const out = await stack.app.request('/v1/admin/logout', {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf ?? '' },
    })
    expect(out.status).toBe(204)
    await page.getByRole('link', { name: 'New rule' }).first().click()
    await page.waitForURL(/\/console\/sign-in\?next=%2Fconsole%2Frules%2Fnew/)
    await expect(page.getByText('Please sign in').isVisible()).resolves.toBe(true)
    await page.getByLabel('Email').fill('admin@shop.example')
    await page.getByLabel('Password').fill('correct horse battery')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(/\/console\/rules\/new$/)

    // The session ends again while a rule is being written: saving asks to sign in and the rule
    // comes back as typed.
    await page.getByLabel('Name', { exact: true }).fill('Written while signed out')
    await page.getByLabel('Title').fill('Half-typed offer')
    const csrf2 = await page.locator('meta[name="csrf-token"]').getAttribute('content')
    const cookie2 = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ')
    await stack.app.request('/v1/admin/logout', {
      method: 'POST',
      headers: { cookie: cookie2, 'x-csrf-token': csrf2 ?? '' },
    })
    await page.getByRole('button', { name: 'Save as draft' }).click()
    await expect(
      page.getByText('Your session ended before this rule was saved').isVisible(),
    ).resolves.toBe(true)
    await page.getByLabel('Email').fill('admin@shop.example')
    await page.getByLabel('Password').fill('correct horse battery')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect(
      page.getByText('Signed in again. Your changes are below').isVisible(),
    ).resolves.toBe(true)
    await expect(page.getByLabel('Name', { exact: true }).inputValue()).resolves.toBe(
      'Written while signed out',
    )
    await expect(page.getByLabel('Title').inputValue()).resolves.toBe('Half-typed offer')
  })

  it('shows a viewer the rules without any control that changes them; the API refuses anyway', async () => {
    const stack = await consoleStack()
    const created = await stack.call(stack.admin, 'POST', '/v1/admin/rules', {
      ...shoesClicks,
      status: 'active',
    })
    const rule = (await created.json()) as { id: string }
    const viewer = await makeViewer(stack)
    const { page } = await openPage(browser())
    await signInThroughForm(page, stack, 'viewer@shop.example')
    await expect(
      page.getByRole('link', { name: 'Shoe browser: 10% off', exact: true }).isVisible(),
    ).resolves.toBe(true)
    await expect(page.getByRole('button', { name: /Pause|Activate/ }).count()).resolves.toBe(0)
    await expect(page.getByRole('link', { name: 'New rule' }).count()).resolves.toBe(0)

    await page.getByRole('link', { name: 'Shoe browser: 10% off', exact: true }).click()
    await expect(page.getByLabel('Title').isDisabled()).resolves.toBe(true)
    await expect(page.getByRole('button', { name: /Save|Add condition/ }).count()).resolves.toBe(0)

    // Posting to the console's own pause route as the viewer: the API says no, nothing changes.
    const answer = await page.evaluate(async (id) => {
      const token = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content')
      const res = await fetch(`/console/rules/${id}/pause`, {
        method: 'POST',
        body: new URLSearchParams({
          _csrf: token ?? '',
          back: `/console/rules/${id}`,
          confirmed: '1',
        }),
      })
      return { url: res.url, text: await res.text() }
    }, rule.id)
    expect(decodeURIComponent(answer.url)).toContain('Could not pause the rule')
    expect(answer.text).toContain('viewer@shop.example is a viewer')
    const put = await stack.call(viewer, 'PUT', `/v1/admin/rules/${rule.id}`, shoesClicks)
    expect(put.status, await put.text()).toBe(403)
    const after = await stack.call(stack.admin, 'GET', `/v1/admin/rules/${rule.id}`)
    expect(((await after.json()) as { status: string }).status).toBe('active')
  })

  it('fits 360 px without sideways scrolling on every main page', async () => {
    const stack = await consoleStack()
    const created = await stack.call(stack.admin, 'POST', '/v1/admin/rules', shoesClicks)
    const rule = (await created.json()) as { id: string }
    const { page } = await openPage(browser(), { width: 360, height: 740 })
    await page.goto(`${stack.url}/console/sign-in`)
    expect(await scrollsSideways(page)).toBe(false)
    await signInThroughForm(page, stack)
    for (const [name, path] of [
      ['rules-360', '/console/rules'],
      ['editor-360', `/console/rules/${rule.id}`],
      ['new-rule-360', '/console/rules/new'],
      ['preview-360', `/console/rules/${rule.id}/preview`],
      ['results-360', `/console/rules/${rule.id}/results`],
      ['versions-360', `/console/rules/${rule.id}/versions`],
      ['health-360', '/console/health'],
      ['activity-360', '/console/activity'],
      ['staff-360', '/console/staff'],
    ] as const) {
      await page.goto(stack.url + path)
      await screenshot(page, name)
      expect(await scrollsSideways(page), `${path} scrolls sideways at 360 px`).toBe(false)
    }
  })
})
