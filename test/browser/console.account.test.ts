/**
 * The console's account page in real headless Chromium against the real api: changing one's
 * password without the script (refusals next to the fields, no password written back into the
 * page, other sessions signed out, this one kept), and API tokens — made once-shown, listed
 * without their secret, revoked after a confirmation — with the script.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PASSWORD, signIn } from '../admin'
import {
  consoleStack,
  openPage,
  screenshot,
  scrollsSideways,
  signInThroughForm,
} from './console-support'
import { launchBrowser } from './support'

let browser: Browser
beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
})

const NEW = 'a brand new passphrase'

describe('console account', () => {
  it('changes the password without the script, field errors in place, other sessions ended', async () => {
    const stack = await consoleStack()
    // The same person signed in elsewhere twice (stack.admin and this one, through the API), and
    // a colleague.
    const elsewhere = await stack.call(undefined, 'POST', '/v1/admin/login', {
      email: 'admin@shop.example',
      password: PASSWORD,
      siteId: stack.site.site.id,
    })
    const elsewhereCookie = (elsewhere.headers.get('set-cookie') ?? '').split(';')[0] as string
    const colleague = await signIn(stack, stack.site.site.id, 'viewer', 'viewer@shop.example')

    const { page } = await openPage(browser, undefined, { javaScript: false })
    await signInThroughForm(page, stack)
    await page.getByRole('link', { name: 'admin@shop.example (admin)' }).click()
    await page.waitForURL(/\/console\/account$/)

    // A wrong current password: said next to that field; nothing typed comes back.
    await page.getByLabel('Current password').fill('not my password')
    await page.getByLabel('New password', { exact: true }).fill(NEW)
    await page.getByLabel('New password again').fill(NEW)
    await page.getByRole('button', { name: 'Change password' }).click()
    await expect(page.locator('#currentPassword-error').textContent()).resolves.toBe(
      'this is not your current password',
    )
    await expect(page.getByLabel('Current password').getAttribute('aria-invalid')).resolves.toBe(
      'true',
    )
    for (const field of ['currentPassword', 'newPassword', 'confirmPassword']) {
      await expect(page.locator(`#${field}`).inputValue()).resolves.toBe('')
    }
    const html = await page.content()
    expect(html).not.toContain('not my password')
    expect(html).not.toContain(NEW)

    // Too short, and two different new passwords: each said at its own field.
    await page.getByLabel('Current password').fill(PASSWORD)
    await page.getByLabel('New password', { exact: true }).fill('short')
    await page.getByLabel('New password again').fill('short')
    await page.getByRole('button', { name: 'Change password' }).click()
    await expect(page.locator('#newPassword-error').textContent()).resolves.toBe(
      'use at least 10 characters',
    )
    await page.getByLabel('Current password').fill(PASSWORD)
    await page.getByLabel('New password', { exact: true }).fill(NEW)
    await page.getByLabel('New password again').fill(`${NEW}!`)
    await page.getByRole('button', { name: 'Change password' }).click()
    await expect(page.locator('#confirmPassword-error').textContent()).resolves.toContain(
      'the two new passwords differ',
    )
    await screenshot(page, 'account-password-refused')

    await page.getByLabel('Current password').fill(PASSWORD)
    await page.getByLabel('New password', { exact: true }).fill(NEW)
    await page.getByLabel('New password again').fill(NEW)
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.waitForURL(/\/console\/account\?done=/)
    await expect(page.locator('#notice').textContent()).resolves.toContain(
      'Your password is changed. 2 other places where you were signed in are signed out.',
    )
    expect(page.url()).not.toContain(encodeURIComponent(NEW))

    // This browser stays signed in; the other session of the account does not; the colleague does.
    await page.goto(`${stack.url}/console/rules`)
    expect(new URL(page.url()).pathname).toBe('/console/rules')
    const other = await stack.app.request('/v1/admin/session', {
      headers: { cookie: elsewhereCookie },
    })
    expect(other.status).toBe(401)
    expect((await stack.call(stack.admin, 'GET', '/v1/admin/session')).status).toBe(401)
    expect((await stack.call(colleague, 'GET', '/v1/admin/session')).status).toBe(200)
    const old = await stack.call(undefined, 'POST', '/v1/admin/login', {
      email: 'admin@shop.example',
      password: PASSWORD,
    })
    expect(old.status).toBe(401)
    const fresh = await stack.call(undefined, 'POST', '/v1/admin/login', {
      email: 'admin@shop.example',
      password: NEW,
    })
    expect(fresh.status).toBe(200)
  })

  it('makes a token shown once, lists tokens without secrets, and revokes one after confirming', async () => {
    const stack = await consoleStack()
    const made = await stack.call(stack.admin, 'POST', '/v1/admin/tokens', {
      name: 'nightly export',
      expiresInDays: 30,
    })
    const script = (await made.json()) as { id: string; token: string }
    const { page } = await openPage(browser)
    await signInThroughForm(page, stack)
    await page.goto(`${stack.url}/console/account`)
    const row = page.locator(`tr[data-token-id="${script.id}"]`)
    await expect(row.textContent()).resolves.toContain('nightly export')
    await expect(row.textContent()).resolves.toContain('active')
    expect(await page.content()).not.toContain(script.token)

    // A new one from the form: shown in the answer once, gone on the next view.
    await page.getByLabel('Name', { exact: true }).fill('dashboard')
    await page.getByLabel('Valid for (days)').fill('400')
    await page.getByRole('button', { name: 'Make a token' }).click()
    await expect(page.locator('#token-days-error').textContent()).resolves.toContain(
      'at most 365 days',
    )
    await page.getByLabel('Valid for (days)').fill('7')
    await page.getByRole('button', { name: 'Make a token' }).click()
    const shown = (await page.locator('code[data-token]').textContent()) ?? ''
    expect(shown).toMatch(/^ntk_/)
    expect(
      (
        await stack.app.request('/v1/admin/rules', {
          headers: { authorization: `Bearer ${shown}` },
        })
      ).status,
    ).toBe(200)
    await page.goto(`${stack.url}/console/account`)
    expect(await page.content()).not.toContain(shown)
    await screenshot(page, 'account')

    // Revoke, after the script's confirmation.
    let asked = ''
    page.once('dialog', (dialog) => {
      asked = dialog.message()
      void dialog.accept()
    })
    await row.getByRole('button', { name: 'Revoke nightly export' }).click()
    await page.waitForURL(/\/console\/account\?done=/)
    expect(asked).toContain('Revoke the token "nightly export"?')
    await expect(page.locator('#notice').textContent()).resolves.toContain('The token is revoked.')
    await expect(row.textContent()).resolves.toContain('revoked')
    await expect(row.getByRole('button').count()).resolves.toBe(0)
    const refused = await stack.app.request('/v1/admin/rules', {
      headers: { authorization: `Bearer ${script.token}` },
    })
    expect(refused.status).toBe(401)
    expect(await refused.text()).toContain('was revoked on')
    const activity = JSON.stringify(
      await (await stack.call(stack.admin, 'GET', '/v1/admin/audit')).json(),
    )
    expect(activity).toContain('token.revoke')

    await page.setViewportSize({ width: 360, height: 740 })
    await page.reload()
    await screenshot(page, 'account-360')
    expect(await scrollsSideways(page)).toBe(false)
  })
})
