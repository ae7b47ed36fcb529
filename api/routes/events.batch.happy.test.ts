import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { partitionOf, profileKey } from '../../streams/partition'
import { basic, productViewed, testApi } from '../../test/harness'
import { readLog } from '../../test/log'

describe('POST /v1/events (happy paths)', () => {
  it('appends a valid batch, stamps server fields and keeps the client timestamp', async () => {
    const t = await testApi()
    const events = [
      productViewed({ ts: Date.UTC(2026, 0, 2) }),
      productViewed({ anonymousId: 'anon-2' }),
    ]
    const before = Date.now()
    const res = await t.app.request('/v1/events', {
      method: 'POST',
      headers: { authorization: basic(t.site.writeKey), 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    })
    const body = await res.json()
    expect(res.status, JSON.stringify(body)).toBe(200)
    expect(body).toEqual({ accepted: 2, duplicates: 0, rejected: [] })

    const log = await readLog(t.redis, t.prefix, 4)
    expect(log.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort())
    const first = log.find((e) => e.id === events[0]?.id)
    expect(first?.ts).toBe(Date.UTC(2026, 0, 2))
    expect(first?.siteId).toBe(t.site.site.id)
    expect(first?.verified).toBe(false)
    expect(first?.receivedAt).toBeGreaterThanOrEqual(before)
    for (const e of log) {
      expect(e.partition).toBe(partitionOf(profileKey(t.site.site.id, e), 4))
    }
  })

  it('counts a resent event once and says it was a duplicate', async () => {
    const t = await testApi()
    const events = [productViewed(), productViewed()]
    const send = () =>
      t.app.request('/v1/events', {
        method: 'POST',
        headers: { authorization: basic(t.site.writeKey) },
        body: JSON.stringify({ events }),
      })
    expect(await (await send()).json()).toMatchObject({ accepted: 2, duplicates: 0 })
    expect(await (await send()).json()).toMatchObject({ accepted: 0, duplicates: 2 })
    expect(await readLog(t.redis, t.prefix, 4)).toHaveLength(2)

    const metrics = await t.services.metrics.registry.getSingleMetricAsString(
      'nudge_ingest_events_total',
    )
    expect(metrics).toContain('nudge_ingest_events_total{outcome="accepted"} 2')
    expect(metrics).toContain('nudge_ingest_events_total{outcome="duplicate"} 2')
    const requests = await t.services.metrics.registry.getSingleMetricAsString(
      'nudge_http_requests_total',
    )
    expect(requests).toContain('nudge_http_requests_total{route="/v1/events",status="200"} 2')
  })

  it('accepts gzip bodies, and JSON labelled text/plain', async () => {
    const t = await testApi()
    const gz = await t.app.request('/v1/events', {
      method: 'POST',
      headers: { authorization: basic(t.site.writeKey), 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ events: [productViewed()] })),
    })
    expect(gz.status, await gz.clone().text()).toBe(200)
    const plain = await t.app.request(`/v1/events?writeKey=${t.site.writeKey}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ events: [productViewed()] }),
    })
    expect(plain.status, await plain.clone().text()).toBe(200)
    expect(await readLog(t.redis, t.prefix, 4)).toHaveLength(2)
  })

  it('trusts the userId of a request signed with the site secret', async () => {
    const t = await testApi()
    const event = productViewed({ userId: 'u-42', anonymousId: undefined })
    const res = await t.app.request('/v1/events', {
      method: 'POST',
      headers: { authorization: basic(t.site.secret) },
      body: JSON.stringify({ events: [event] }),
    })
    expect(res.status, await res.clone().text()).toBe(200)
    const [stored] = await readLog(t.redis, t.prefix, 4)
    expect(stored?.verified).toBe(true)
    expect(stored?.partition).toBe(partitionOf(`${t.site.site.id}:u:u-42`, 4))
  })

  it('takes the write key from the body when there is no Authorization header', async () => {
    const t = await testApi()
    const res = await t.app.request('/v1/events', {
      method: 'POST',
      body: JSON.stringify({ writeKey: t.site.writeKey, events: [productViewed()] }),
    })
    expect(res.status, await res.clone().text()).toBe(200)
  })
})
