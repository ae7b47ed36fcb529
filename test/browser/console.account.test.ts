import { describe, expect, it } from 'vitest'
import { PASSWORD, signIn } from '../admin'
import {
  consoleStack,
  openPage,
  screenshot,
  scrollsSideways,
  signInThroughForm,
} from './console-support'
import { browserPerFile } from './support'

const browser = browserPerFile()

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
    const script = (await (
      await stack.call(stack.admin, 'POST', '/v1/admin/tokens', { name: 'ci' })
    ).json()) as { token: string }
    const scriptWorks = async () =>
      (
        await stack.app.request('/v1/admin/rules', {
          headers: { authorization: `Bearer ${script.token}` },
        })
      ).status === 200

    const { context, page } = await openPage(browser(), undefined, { javaScript: false })
    await signInThroughForm(page, stack)
    const sessionCookie = async () =>
      (await context.cookies()).find((c) => c.name === 'nudge_session')?.value ?? ''
    const before = await sessionCookie()
    await page.getByRole('link', { name: 'admin@shop.example (admin)' }).click()
    await page.waitForURL(/\/console\/account$/)
    const revokeBox = page.getByLabel('Also revoke my API tokens')
    await expect(revokeBox.isChecked()).resolves.toBe(true)

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

    // Too short, and two different new passwords: each said at its own field. The box keeps
    // the choice made through a refusal.
    await page.getByLabel('Current password').fill(PASSWORD)
    await page.getByLabel('New password', { exact: true }).fill('short')
    await page.getByLabel('New password again').fill('short')
    await revokeBox.uncheck()
    await page.getByRole('button', { name: 'Change password' }).click()
    await expect(page.locator('#newPassword-error').textContent()).resolves.toBe(
      'use at least 10 characters',
    )
    await expect(revokeBox.isChecked()).resolves.toBe(false)
    await page.getByLabel('Current password').fill(PASSWORD)
    await page.getByLabel('New password', { exact: true }).fill(NEW)
    await page.getByLabel('New password again').fill(`${NEW}!`)
    await page.getByRole('button', { name: 'Change password' }).click()
    await expect(page.locator('#confirmPassword-error').textContent()).resolves.toContain(
      'the two new passwords differ',
    )
    await screenshot(page, 'account-password-refused')

    // A routine change, box unticked: the script's token keeps working.
    await page.getByLabel('Current password').fill(PASSWORD)
    await page.getByLabel('New password', { exact: true }).fill(NEW)
    await page.getByLabel('New password again').fill(NEW)
    await expect(revokeBox.isChecked()).resolves.toBe(false)
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.waitForURL(/\/console\/account\?done=/)
    await expect(page.locator('#notice').textContent()).resolves.toBe(
      'Your password is changed. 2 other places where you were signed in are signed out. Your API tokens still work.',
    )
    expect(page.url()).not.toContain(encodeURIComponent(NEW))
    expect(await scriptWorks()).toBe(true)

    // This browser stays signed in on a new session: a copy of its old cookie is out.
    const after = await sessionCookie()
    expect(after).not.toBe(before)
    const oldCookie = await stack.app.request('/v1/admin/session', {
      headers: { cookie: `nudge_session=${before}` },
    })
    expect(oldCookie.status).toBe(401)
    await page.goto(`${stack.url}/console/rules`)
    expect(new URL(page.url()).pathname).toBe('/console/rules')

    // The other session of the account is out; the colleague is not.
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

    // Again on the new session, the box ticked as the page offers it: the token is revoked.
    await page.goto(`${stack.url}/console/account`)
    await expect(revokeBox.isChecked()).resolves.toBe(true)
    await page.getByLabel('Current password').fill(NEW)
    await page.getByLabel('New password', { exact: true }).fill(`${NEW} 2`)
    await page.getByLabel('New password again').fill(`${NEW} 2`)
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.waitForURL(/\/console\/account\?done=/)
    await expect(page.locator('#notice').textContent()).resolves.toBe(
      'Your password is changed. One other place where you were signed in is signed out. Your API token is revoked.',
    )
    expect(await scriptWorks()).toBe(false)
    expect(await sessionCookie()).not.toBe(after)
  })

  it('makes a token shown once, lists tokens without secrets, and revokes one after confirming', async () => {
    const stack = await consoleStack()
    const made = await stack.call(stack.admin, 'POST', '/v1/admin/tokens', {
      name: 'nightly export',
      expiresInDays: 30,
    })
    const script = (await made.json()) as { id: string; token: string }
    const { page } = await openPage(browser())
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
    // Post/redirect/get: the answer is a page of its own address, not the post's result.
    await page.waitForURL(/\/console\/account\?made=tok_/)
    const shown = (await page.locator('code[data-token]').textContent()) ?? ''
    expect(shown).toMatch(/^ntk_/)
    expect(page.url()).not.toContain(shown)
    expect(
      (
        await stack.app.request('/v1/admin/rules', {
          headers: { authorization: `Bearer ${shown}` },
        })
      ).status,
    ).toBe(200)
    // A refresh asks for the page again, never posts again: no second token, no secret again.
    await page.reload()
    expect(await page.content()).not.toContain(shown)
    await expect(page.locator('#notice').textContent()).resolves.toContain(
      'The token "dashboard" is made. Its secret was shown once and cannot be shown again',
    )
    const mine = (await (await stack.call(stack.admin, 'GET', '/v1/admin/tokens')).json()) as {
      tokens: { name: string }[]
    }
    expect(mine.tokens.map((t) => t.name)).toEqual(['dashboard', 'nightly export'])
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

  it('carries a new token’s secret once, sealed to the session that made it', async () => {
    const stack = await consoleStack()
    const made = await fetch(`${stack.url}/console/account/tokens`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: stack.admin.headers.cookie as string },
      body: new URLSearchParams({
        _csrf: stack.admin.headers['x-csrf-token'] as string,
        name: 'deploy',
        days: '7',
      }),
    })
    expect(made.status, await made.clone().text()).toBe(303)
    const location = made.headers.get('location') ?? ''
    expect(location).toMatch(/^\/console\/account\?made=tok_/)
    const setCookie = made.headers.get('set-cookie') ?? ''
    expect(setCookie).toMatch(/^nudge_new_token=v1\./)
    for (const flag of ['HttpOnly', 'SameSite=Strict', 'Path=/console/account', 'Max-Age=60']) {
      expect(setCookie).toContain(flag)
    }
    expect(setCookie).not.toContain('ntk_')
    const carried = setCookie.split(';')[0] as string
    const view = (session: string) =>
      fetch(`${stack.url}${location}`, { headers: { cookie: `${session}; ${carried}` } })

    // Another session of the same person (another browser, or after signing in again) cannot
    // open it, and is told the secret is not shown again.
    const elsewhere = await stack.call(undefined, 'POST', '/v1/admin/login', {
      email: 'admin@shop.example',
      password: PASSWORD,
    })
    const other = await view((elsewhere.headers.get('set-cookie') ?? '').split(';')[0] as string)
    const otherPage = await other.text()
    expect(other.status).toBe(200)
    expect(otherPage).not.toContain('data-token=""')
    expect(otherPage).not.toMatch(/ntk_\w/)
    expect(otherPage).toContain('Its secret was shown once')

    // Its own session sees it, and the answer deletes the cookie.
    const own = await view(stack.admin.headers.cookie as string)
    expect(own.status).toBe(200)
    expect(await own.text()).toMatch(/<code data-token="">ntk_/)
    expect(own.headers.get('set-cookie')).toMatch(/^nudge_new_token=;.*Max-Age=0/)
    expect(own.headers.get('cache-control')).toBe('no-store')

    // An id that is not the person's token gets a clear answer.
    const unknown = await fetch(`${stack.url}/console/account?made=tok_nope`, {
      headers: { cookie: stack.admin.headers.cookie as string },
    })
    expect(unknown.status).toBe(404)
    expect(await unknown.text()).toContain('You have no token tok_nope.')
  })
})
