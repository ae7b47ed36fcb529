/**
 * A site's own half-life: set through the admin API, written with by the workers and read with
 * by the profile API and rule facts, so a score decays as the staff asked.
 */
import { describe, expect, it } from 'vitest'
import { findEventWeights } from '../../drizzle/queries/sites'
import { createKeys } from '../../streams/keys'
import { adminApi } from '../../test/admin'
import { basic } from '../../test/harness'
import { createEventsPipeline } from '../../workers/main'

describe('site half-life', () => {
  it('is validated in words, audited, and decays scores as set', async () => {
    const t = await adminApi()
    for (const hours of [0, 2.5, 'a day', 24 * 366]) {
      const res = await t.call(t.admin, 'PUT', '/v1/admin/settings/half-life', { hours })
      expect(res.status, String(hours)).toBe(400)
      expect(
        ((await res.json()) as { error: { issues: { field: string }[] } }).error.issues[0]?.field,
      ).toBe('hours')
    }
    const viewer = await import('../../test/admin').then((m) =>
      m.signIn(t, t.site.site.id, 'viewer'),
    )
    expect((await t.call(viewer, 'PUT', '/v1/admin/settings/half-life', { hours: 1 })).status).toBe(
      403,
    )
    const set = await t.call(t.admin, 'PUT', '/v1/admin/settings/half-life', { hours: 1 })
    expect(await set.json()).toEqual({ halfLifeHours: 1 })
    const settings = (await (await t.call(t.admin, 'GET', '/v1/admin/settings')).json()) as {
      halfLifeHours: number
      eventWeights: Record<string, number>
    }
    expect(settings).toMatchObject({ halfLifeHours: 1, eventWeights: {} })
    const audit = await (await t.call(t.admin, 'GET', '/v1/admin/audit')).json()
    expect(JSON.stringify(audit)).toContain('site.half-life')

    // Two views (weight 1 each), two hours and one hour old: with a one-hour half-life the
    // workers store 1·½ + 1 at the second, which reads as 0.75 now. (A writer still on the
    // default week would store ~2, read as ~1.)
    const process = createEventsPipeline({
      config: t.config,
      redis: t.redis,
      keys: createKeys(t.prefix),
      eventWeights: (siteId) => findEventWeights(t.db, siteId),
    })
    const ts = Date.now() - 3_600_000
    await process({
      partition: 0,
      entryId: '1-0',
      events: [
        {
          id: 'hl-0',
          type: 'ProductViewed',
          v: 1,
          anonymousId: 'hl',
          ts: ts - 3_600_000,
          receivedAt: ts,
          siteId: t.site.site.id,
          verified: false,
          props: { productId: 'q', category: 'Shoes' },
        },
        {
          id: 'hl-1',
          type: 'ProductViewed',
          v: 1,
          anonymousId: 'hl',
          ts,
          receivedAt: ts,
          siteId: t.site.site.id,
          verified: false,
          props: { productId: 'p', category: 'Shoes' },
        },
      ],
    })
    const res = await t.app.request('/v1/profiles/a:hl', {
      headers: { authorization: basic(t.site.secret) },
    })
    const profile = (await res.json()) as { score: number; interests: { value: number }[] }
    expect(profile.score).toBeCloseTo(0.75, 2)
    expect(profile.interests[0]?.value).toBeCloseTo(0.75, 2)

    // Back to the default week: what is stored now decays slowly again (1.5 an hour ago).
    await t.call(t.admin, 'PUT', '/v1/admin/settings/half-life', { hours: null })
    const again = (await (
      await t.app.request('/v1/profiles/a:hl', { headers: { authorization: basic(t.site.secret) } })
    ).json()) as { score: number }
    expect(again.score).toBeGreaterThan(1.4)
  })
})
