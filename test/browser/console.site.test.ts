/**
 * The console's health, staff and settings pages, in real headless Chromium against the real
 * api: the pipeline figures move with real ingest and a really failed BullMQ job (retried from
 * the page), admins invite and manage staff whose roles take effect at once, and site settings
 * show the API's refusals next to the field — every change in the audit log.
 */
import { Queue, Worker } from 'bullmq'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createBlockingRedis } from '../../runtime/redis'
import { QUEUES } from '../../streams/keys'
import { basic, productViewed } from '../harness'
import { TEST_REDIS_URL } from '../redis'
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

describe('console site pages', () => {
  it('shows ingest, the event log and a failed job, and retries it', async () => {
    const stack = await consoleStack()
    // One events job that fails for good, through a real BullMQ worker on the test's prefix.
    const connection = createBlockingRedis(TEST_REDIS_URL, 'console-test')
    const prefix = `${stack.prefix}bull`
    const queue = new Queue(QUEUES.events, { connection, prefix })
    onTestFinished(async () => {
      await queue.close()
      connection.disconnect()
    })
    const workerConnection = createBlockingRedis(TEST_REDIS_URL, 'console-test-w')
    const failed = new Promise<void>((resolve) => {
      const worker = new Worker(
        QUEUES.events,
        async () => {
          throw new Error('boom (test)')
        },
        { connection: workerConnection, prefix },
      )
      let failures = 0
      worker.on('failed', () => {
        failures += 1
        if (failures < 2) {
          return
        }
        void worker.close().then(() => {
          workerConnection.disconnect()
          resolve()
        })
      })
    })
    // Its events are this site's: the page lists only the signed-in site's failed jobs.
    await queue.add(
      'slice',
      { partition: 0, entryId: '1-0', events: [{ siteId: stack.site.site.id }] },
      { attempts: 1 },
    )
    // Another site's failure: counted, never listed here.
    await queue.add(
      'slice',
      { partition: 0, entryId: '2-0', events: [{ siteId: 'sit_elsewhere' }] },
      { attempts: 1 },
    )
    await failed

    const { page } = await openPage(browser())
    await signInThroughForm(page, stack)
    await page.getByRole('link', { name: 'Health' }).click()
    await expect(page.getByRole('heading', { name: 'Pipeline health' }).isVisible()).resolves.toBe(
      true,
    )
    const accepted = Number(await page.locator('[data-figure="accepted"]').textContent())
    const sent = await fetch(`${stack.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: basic(stack.site.writeKey), 'content-type': 'application/json' },
      body: JSON.stringify({ events: [productViewed(), productViewed()] }),
    })
    expect(sent.status, await sent.text()).toBe(200)
    await page.reload()
    await expect(page.locator('[data-figure="accepted"]').textContent()).resolves.toBe(
      String(accepted + 2),
    )
    const alert = await page.locator('.notice.bad').textContent()
    expect(alert).toContain('no pump has read it')
    // The count is the install's; the list holds only this site's job.
    expect(alert).toContain('2 events job(s) failed for good')
    await page.getByText('Latest failed events jobs').click()
    await expect(page.getByText('boom (test)').count()).resolves.toBe(1)
    await screenshot(page, 'health')

    page.once('dialog', (dialog) => void dialog.accept())
    await page.getByRole('button', { name: 'Retry failed events jobs' }).click()
    await page.waitForURL(/done=/)
    await expect(page.getByRole('status').textContent()).resolves.toContain('back on the queue')
    // Only this site's job went back on the queue.
    expect((await queue.getJobCounts('failed', 'waiting')).failed).toBe(1)
    const audit = await stack.call(stack.admin, 'GET', '/v1/admin/audit')
    expect(JSON.stringify(await audit.json())).toContain('jobs.retry')
  })

  it('lets an admin invite staff, change their role and remove them; others may not', async () => {
    const stack = await consoleStack()
    const { page } = await openPage(browser())
    await signInThroughForm(page, stack)
    await page.getByRole('link', { name: 'Staff' }).click()
    await page.getByLabel('Email').fill('not-an-email')
    await page.getByRole('button', { name: 'Invite' }).click()
    await expect(page.locator('#invite-email-error').textContent()).resolves.toContain(
      'expected an email address',
    )
    await expect(page.getByLabel('Email').inputValue()).resolves.toBe('not-an-email')
    await page.getByLabel('Email').fill('new.editor@shop.example')
    await page.getByLabel('Role', { exact: true }).selectOption('editor')
    await page.getByRole('button', { name: 'Invite' }).click()
    const password = (await page.locator('[data-password]').textContent()) ?? ''
    expect(password.length).toBeGreaterThan(10)
    await screenshot(page, 'staff')

    // The new editor signs in with the first password and can write rules.
    const other = await openPage(browser())
    await other.page.goto(`${stack.url}/console/sign-in`)
    await other.page.getByLabel('Email').fill('new.editor@shop.example')
    await other.page.getByLabel('Password').fill(password)
    await other.page.getByRole('button', { name: 'Sign in' }).click()
    await other.page.waitForURL(/\/console\/rules/)
    await expect(other.page.getByRole('link', { name: 'New rule' }).count()).resolves.toBe(2)

    // Made a viewer: at once, no more rule editing.
    const row = page.locator('tr[data-staff="new.editor@shop.example"]')
    await row.getByLabel('Role of new.editor@shop.example').selectOption('viewer')
    await row.getByRole('button', { name: /Change/ }).click()
    await page.waitForURL(/done=/)
    await other.page.reload()
    await expect(other.page.getByRole('link', { name: 'New rule' }).count()).resolves.toBe(0)
    await other.page.goto(`${stack.url}/console/staff`)
    await expect(other.page.getByRole('status').textContent()).resolves.toContain(
      'This needs the admin role',
    )

    page.once('dialog', (dialog) => void dialog.accept())
    await page
      .locator('tr[data-staff="new.editor@shop.example"]')
      .getByRole('button', { name: /Remove/ })
      .click()
    await page.waitForURL(/done=/)
    await expect(page.locator('tr[data-staff="new.editor@shop.example"]').count()).resolves.toBe(0)
    await other.page.goto(`${stack.url}/console/rules`)
    expect(new URL(other.page.url()).pathname).toBe('/console/sign-in')
    const audit = JSON.stringify(
      await (await stack.call(stack.admin, 'GET', '/v1/admin/audit')).json(),
    )
    for (const action of ['staff.invite', 'staff.role', 'staff.remove']) {
      expect(audit).toContain(action)
    }
  })

  it('changes origins, weights and the secret, with refusals shown next to the field', async () => {
    const stack = await consoleStack()
    const viewer = await makeViewer(stack)
    expect((await stack.call(viewer, 'GET', '/v1/admin/settings')).status).toBe(403)
    const { page } = await openPage(browser(), { width: 360, height: 740 })
    await signInThroughForm(page, stack)
    await page.goto(`${stack.url}/console/settings`)
    expect(await scrollsSideways(page)).toBe(false)

    await page.getByLabel('Add an origin').fill('ftp://nope')
    await page.getByRole('button', { name: 'Allow' }).click()
    await expect(page.locator('#origin-error').isVisible()).resolves.toBe(true)
    await expect(page.getByLabel('Add an origin').inputValue()).resolves.toBe('ftp://nope')
    await page.getByLabel('Add an origin').fill('https://www.shop.example')
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.waitForURL(/done=/)
    await expect(page.locator('[data-origin="https://www.shop.example"]').count()).resolves.toBe(1)

    await page.getByLabel('OrderCompleted').fill('5000')
    await page.getByLabel('ClickedProduct').fill('4')
    await page.getByRole('button', { name: 'Save weights' }).click()
    await expect(page.locator('#w-OrderCompleted-error').textContent()).resolves.toBe(
      'expected a number from -1000 to 1000',
    )
    await expect(page.getByLabel('ClickedProduct').inputValue()).resolves.toBe('4')
    await page.getByLabel('OrderCompleted').fill('30')
    await page.getByRole('button', { name: 'Save weights' }).click()
    await page.waitForURL(/done=/)
    await expect(page.getByLabel('OrderCompleted').inputValue()).resolves.toBe('30')

    const halfLife = page.getByLabel('Half-life of the engagement score and interests, in hours')
    await halfLife.fill('0')
    await page.getByRole('button', { name: 'Save half-life' }).click()
    await expect(page.locator('#half-life-error').textContent()).resolves.toBe(
      'expected at least 1 hour',
    )
    await expect(halfLife.inputValue()).resolves.toBe('0')
    await halfLife.fill('24')
    await page.getByRole('button', { name: 'Save half-life' }).click()
    await page.waitForURL(/done=/)
    await expect(halfLife.inputValue()).resolves.toBe('24')

    page.once('dialog', (dialog) => void dialog.accept())
    await page.getByRole('button', { name: 'Rotate the secret' }).click()
    const secret = (await page.locator('[data-secret]').textContent()) ?? ''
    expect(secret).toMatch(/^sk_/)
    expect(secret).not.toBe(stack.site.secret)
    await screenshot(page, 'settings-360')
    await page.getByRole('link', { name: 'Activity' }).click()
    const activity = await page.locator('table').textContent()
    expect(activity).toContain('rotated the secret')
    expect(activity).toContain('allowed an origin')
    expect(await scrollsSideways(page)).toBe(false)
    const audit = JSON.stringify(
      await (await stack.call(stack.admin, 'GET', '/v1/admin/audit')).json(),
    )
    for (const action of [
      'site.origin.add',
      'site.weights',
      'site.half-life',
      'site.secret.rotate',
    ]) {
      expect(audit).toContain(action)
    }
  })
})
