/** The admin rule lifecycle: create, validate in words, version, audit, preview, stats. */
import { describe, expect, it } from 'vitest'
import { insertOutcomes } from '../../drizzle/queries/outcomes'
import { createKeys } from '../../streams/keys'
import { adminApi } from '../../test/admin'
import { EXAMPLE_RULES } from '../../test/fixtures/rules'

type Json = Record<string, unknown>

describe('admin rules', () => {
  it('creates the four example rules, versions every change and audits who did what', async () => {
    const t = await adminApi()
    const ids: string[] = []
    for (const rule of Object.values(EXAMPLE_RULES)) {
      const res = await t.call(t.admin, 'POST', '/v1/admin/rules', rule)
      expect(res.status, await res.clone().text()).toBe(201)
      const body = (await res.json()) as Json
      expect(body).toMatchObject({ status: 'draft', version: 1, name: rule.name })
      ids.push(body.id as string)
    }
    const id = ids[0] as string
    const got = (await (await t.call(t.admin, 'GET', `/v1/admin/rules/${id}`)).json()) as Json
    // A GET answer can be edited and PUT back as it is.
    const changed = await t.call(t.admin, 'PUT', `/v1/admin/rules/${id}`, { ...got, priority: 300 })
    expect(await changed.json()).toMatchObject({ version: 2, priority: 300, status: 'draft' })
    expect(
      await (await t.call(t.admin, 'POST', `/v1/admin/rules/${id}/activate`)).json(),
    ).toMatchObject({ status: 'active', version: 2 })
    const versions = (await (
      await t.call(t.admin, 'GET', `/v1/admin/rules/${id}/versions`)
    ).json()) as { versions: Json[] }
    expect(
      versions.versions.map((v) => [v.version, (v.spec as Json).priority, v.createdBy]),
    ).toEqual([
      [1, 200, 'admin@shop.example'],
      [2, 300, 'admin@shop.example'],
    ])
    const active = (await (
      await t.call(t.admin, 'GET', '/v1/admin/rules?status=active')
    ).json()) as { rules: Json[] }
    expect(active.rules.map((r) => r.id)).toEqual([id])
    const audit = (await (await t.call(t.admin, 'GET', '/v1/admin/audit')).json()) as {
      entries: Json[]
    }
    expect(audit.entries.slice(0, 2).map((e) => [e.action, e.subject, e.actor])).toEqual([
      ['rule.activate', `rule:${id}`, 'admin@shop.example'],
      ['rule.update', `rule:${id}`, 'admin@shop.example'],
    ])
    expect(audit.entries).toHaveLength(6)
  })

  it('answers a bad rule with 400 naming each field in plain words', async () => {
    const t = await adminApi()
    const res = await t.call(t.admin, 'POST', '/v1/admin/rules', {
      ...EXAMPLE_RULES.shoesClicks,
      name: '',
      trigger: { event: 'Clicked' },
      offer: { title: 'x', cta: { label: 'Go', url: 'javascript:alert(1)' } },
      holdoutPercent: 150,
    })
    expect(res.status).toBe(400)
    const { error } = (await res.json()) as {
      error: { code: string; message: string; issues: { field: string; reason: string }[] }
    }
    expect(error.code).toBe('BAD_REQUEST')
    const byField = Object.fromEntries(error.issues.map((i) => [i.field, i.reason]))
    expect(byField).toMatchObject({
      name: 'the rule needs a name',
      'trigger.event': expect.stringContaining('expected one of the event types'),
      'offer.cta.url': 'expected a full http:// or https:// address',
      holdoutPercent: 'expected a percentage from 0 to 100',
    })
    expect(error.message).toMatch(/^Please fix these 4 fields: /)
    // Nothing was stored.
    expect(await (await t.call(t.admin, 'GET', '/v1/admin/rules')).json()).toEqual({ rules: [] })
    expect((await t.call(t.admin, 'GET', '/v1/admin/rules?status=live')).status).toBe(400)
    expect(
      (
        await t.call(t.admin, 'POST', '/v1/admin/rules', {
          ...EXAMPLE_RULES.financing,
          status: 'paused',
        })
      ).status,
    ).toBe(400)
  })

  it('previews how many current profiles match and why, without sending anything', async () => {
    const t = await adminApi()
    const keys = createKeys(t.prefix)
    const site = t.site.site.id
    const now = Date.now()
    // Three shoppers: two clicked three shoes recently, one clicked hats.
    const clicks = (anon: string, category: string) =>
      [1, 2, 3].map((i) => [
        now - i * 1000,
        JSON.stringify({
          id: `${anon}-${i}`,
          type: 'ClickedProduct',
          ts: now - i * 1000,
          category,
          item: `i${i}`,
        }),
      ])
    for (const [anon, category] of [
      ['a1', 'Shoes'],
      ['a2', 'Shoes'],
      ['a3', 'Hats'],
    ] as const) {
      const profile = `${site}:a:${anon}`
      await t.redis.hset(keys.profile(profile), { n: 3, first: now - 3000, last: now - 1000 })
      await t.redis.zadd(keys.profileRecent(profile), ...clicks(anon, category).flat())
    }
    const made = (await (
      await t.call(t.admin, 'POST', '/v1/admin/rules', EXAMPLE_RULES.shoesClicks)
    ).json()) as Json
    const res = await t.call(t.admin, 'POST', `/v1/admin/rules/${made.id}/preview`, { sample: 5 })
    expect(res.status).toBe(200)
    const body = (await res.json()) as {
      scanned: number
      matching: number
      sample: { shopper: string; passed: boolean; why: string[] }[]
    }
    expect(body).toMatchObject({ scanned: 3, matching: 2 })
    const hats = body.sample.find((s) => s.shopper === 'a:a3')
    expect(hats?.passed).toBe(false)
    expect(hats?.why.join('\n')).toContain(
      '✗ ClickedProduct events where category is "shoes" in the last 10m is at least 3 (was 0)',
    )
    // An unsaved rule previews too; previews claim nothing.
    const unsaved = await t.call(t.admin, 'POST', '/v1/admin/preview', {
      rule: { ...EXAMPLE_RULES.shoesClicks, conditions: undefined },
    })
    expect(await unsaved.json()).toMatchObject({ scanned: 3, matching: 3 })
    expect(await t.redis.exists(keys.profileAnchor(`${site}:a:a1`))).toBe(0)

    // Those profiles were written by hand, so the preview scanned the keyspace. Once the workers
    // keep the site's active shoppers, it reads the most recent ones there.
    await t.redis.zadd(keys.siteShoppers(site), now - 5, `${site}:a:a3`, now, `${site}:a:a2`)
    const recent = (await (
      await t.call(t.admin, 'POST', `/v1/admin/rules/${made.id}/preview`, { limit: 1, sample: 1 })
    ).json()) as { scanned: number; sample: { shopper: string }[] }
    expect(recent).toMatchObject({ scanned: 1, sample: [{ shopper: 'a:a2' }] })
    // An index holding fewer than the limit is topped up by the scan.
    const topped = (await (
      await t.call(t.admin, 'POST', `/v1/admin/rules/${made.id}/preview`, { sample: 0 })
    ).json()) as { scanned: number }
    expect(topped.scanned).toBe(3)
    // Once the workers' backfill has indexed the older profiles, the index is the whole answer.
    await t.redis.set(keys.shoppersBackfilled(), new Date().toISOString())
    const indexed = (await (
      await t.call(t.admin, 'POST', `/v1/admin/rules/${made.id}/preview`, { sample: 0 })
    ).json()) as { scanned: number }
    expect(indexed.scanned).toBe(2)
  })

  it('reports outcomes per rule with rates and the lift over the holdout', async () => {
    const t = await adminApi()
    const site = t.site.site.id
    const base = {
      siteId: site,
      ruleId: 'rul_x',
      ruleVersion: 1,
      profileKey: `${site}:a:x`,
      at: new Date(),
    }
    const rows = [
      ...Array.from({ length: 10 }, (_, i) => ({
        ...base,
        offerId: `d${i}`,
        kind: 'delivered' as const,
      })),
      ...Array.from({ length: 8 }, (_, i) => ({
        ...base,
        offerId: `d${i}`,
        kind: 'shown' as const,
      })),
      ...Array.from({ length: 2 }, (_, i) => ({
        ...base,
        offerId: `d${i}`,
        kind: 'clicked' as const,
      })),
      ...Array.from({ length: 4 }, (_, i) => ({
        ...base,
        offerId: `d${i}`,
        kind: 'converted' as const,
      })),
      ...Array.from({ length: 10 }, (_, i) => ({
        ...base,
        offerId: `h${i}`,
        kind: 'holdout' as const,
      })),
      ...Array.from({ length: 2 }, (_, i) => ({
        ...base,
        offerId: `h${i}`,
        kind: 'converted' as const,
      })),
      { ...base, siteId: t.other.site.id, offerId: 'elsewhere', kind: 'delivered' as const },
    ]
    await insertOutcomes(t.db, rows)
    await insertOutcomes(t.db, rows) // written twice (a retried job): counted once
    const { rules } = (await (await t.call(t.admin, 'GET', '/v1/admin/stats')).json()) as {
      rules: Json[]
    }
    expect(rules).toEqual([
      {
        ruleId: 'rul_x',
        delivered: 10,
        holdout: 10,
        shown: 8,
        clicked: 2,
        dismissed: 0,
        converted: 4,
        holdoutConverted: 2,
        showRate: 0.8,
        clickRate: 0.25,
        conversionRate: 0.4,
        holdoutConversionRate: 0.2,
        lift: 1,
      },
    ])
  })
})
