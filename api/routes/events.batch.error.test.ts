import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { createApp } from '../../api/app'
import { createRedis } from '../../runtime/redis'
import { basic, productViewed, testApi } from '../../test/harness'
import { readLog } from '../../test/log'

type ErrorJson = {
  error: { code: string; message: string; requestId: string; rejected?: unknown[] }
}

function post(
  t: Awaited<ReturnType<typeof testApi>>,
  body: BodyInit,
  headers: Record<string, string> = {},
) {
  return t.app.request('/v1/events', {
    method: 'POST',
    headers: { authorization: basic(t.site.writeKey), ...headers },
    body,
  })
}

describe('POST /v1/events (bad input gets a clear answer)', () => {
  it('answers 400 INVALID_JSON for a body that is not JSON', async () => {
    const t = await testApi()
    const res = await post(t, '{"events": [')
    const body = (await res.json()) as ErrorJson
    expect(res.status).toBe(400)
    expect(body.error.code).toBe('INVALID_JSON')
    expect(body.error.requestId).toMatch(/^req_/)
  })

  it('answers 413 naming the limit for a body over 500 KB, compressed or not', async () => {
    const t = await testApi()
    const big = JSON.stringify({
      events: [productViewed({ props: { productId: 'x'.repeat(600_000) } })],
    })
    const res = await post(t, big)
    expect(res.status).toBe(413)
    expect(((await res.json()) as ErrorJson).error.message).toContain('500 KB')

    const bomb = await post(t, gzipSync(big), { 'content-encoding': 'gzip' })
    expect(bomb.status).toBe(413)
    expect(((await bomb.json()) as ErrorJson).error.message).toContain('Decompressed')
  })

  it('answers 413 for more than 500 events and 400 for none', async () => {
    const t = await testApi()
    const many = Array.from({ length: 501 }, () => productViewed({ props: { productId: 'p' } }))
    const res = await post(t, JSON.stringify({ events: many }))
    expect(res.status).toBe(413)
    expect(((await res.json()) as ErrorJson).error.message).toContain('501 events')
    const none = await post(t, JSON.stringify({ events: [] }))
    expect(none.status).toBe(400)
  })

  it('keeps the valid events of a batch and names the field and reason of each rejected one', async () => {
    const t = await testApi()
    const good = productViewed()
    const badPrice = productViewed({ props: { productId: 'p1', price: 'cheap' } })
    const badType = { ...productViewed(), type: 'ProductLiked' }
    const huge = productViewed({
      props: { productId: 'p1', name: 'n'.repeat(300), url: 'u'.repeat(2000) },
    })
    const tooBig = {
      ...productViewed(),
      type: 'Custom',
      props: {
        name: 'big',
        properties: Object.fromEntries(
          Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v'.repeat(1000)]),
        ),
      },
    }
    const res = await post(t, JSON.stringify({ events: [good, badPrice, badType, huge, tooBig] }))
    const body = (await res.json()) as {
      accepted: number
      rejected: { index: number; id: string; issues: { field: string; reason: string }[] }[]
    }
    expect(res.status, JSON.stringify(body)).toBe(200)
    expect(body.accepted).toBe(1)
    expect(body.rejected.map((r) => r.index)).toEqual([1, 2, 3, 4])
    expect(body.rejected[0]).toEqual({
      index: 1,
      id: badPrice.id,
      issues: [{ field: 'events[1].props.price', reason: 'expected number, received string' }],
    })
    expect(body.rejected[1]?.issues[0]?.field).toBe('events[2].type')
    expect(body.rejected[1]?.issues[0]?.reason).toContain('ProductViewed')
    expect(body.rejected[2]?.issues.map((i) => i.field)).toEqual(['events[3].props.name'])
    expect(body.rejected[3]?.issues[0]?.reason).toMatch(/bytes as stored; the limit is 32768/)

    const log = await readLog(t.redis, t.prefix, 4)
    expect(log.map((e) => e.id)).toEqual([good.id])
  })

  it('answers 400 INVALID_EVENTS with the list when every event is rejected', async () => {
    const t = await testApi()
    const res = await post(t, JSON.stringify({ events: [{ id: 'x' }] }))
    const body = (await res.json()) as ErrorJson
    expect(res.status).toBe(400)
    expect(body.error.code).toBe('INVALID_EVENTS')
    expect(body.error.rejected).toHaveLength(1)
  })

  it('answers 429 with Retry-After when the site is over its rate, keeping nothing', async () => {
    const t = await testApi({ NUDGE_RATE_SITE: '1', NUDGE_RATE_SITE_BURST: '3' })
    const first = await post(
      t,
      JSON.stringify({ events: [productViewed(), productViewed(), productViewed()] }),
    )
    expect(first.status).toBe(200)
    const second = await post(t, JSON.stringify({ events: [productViewed()] }))
    expect(second.status).toBe(429)
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(((await second.json()) as ErrorJson).error.code).toBe('RATE_LIMITED')
    expect(await readLog(t.redis, t.prefix, 4)).toHaveLength(3)
  })

  it('answers 429 per client IP before the site limit is reached', async () => {
    const t = await testApi({ NUDGE_RATE_IP: '1', NUDGE_RATE_IP_BURST: '2' })
    expect(
      (await post(t, JSON.stringify({ events: [productViewed(), productViewed()] }))).status,
    ).toBe(200)
    expect((await post(t, JSON.stringify({ events: [productViewed()] }))).status).toBe(429)
    // A server sender signed with the secret is not held to the per-IP bucket.
    const server = await t.app.request('/v1/events', {
      method: 'POST',
      headers: { authorization: basic(t.site.secret) },
      body: JSON.stringify({ events: [productViewed()] }),
    })
    expect(server.status).toBe(200)
  })

  it('answers 503 with Retry-After within a second when Redis is unreachable', async () => {
    const t = await testApi()
    // A port nothing listens on: the client never connects, and must not queue commands.
    const down = createRedis('redis://127.0.0.1:1', { commandTimeoutMs: 800 })
    down.on('error', () => {})
    const app = createApp({ ...t.services, redis: down, rateLimiter: t.services.rateLimiter })
    const started = Date.now()
    const res = await app.request('/v1/events', {
      method: 'POST',
      headers: { authorization: basic(t.site.writeKey) },
      body: JSON.stringify({ events: [productViewed()] }),
    })
    const elapsed = Date.now() - started
    down.disconnect()
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('1')
    expect(elapsed).toBeLessThan(1000)
  })

  it('answers 404 in the same error shape for an unknown path', async () => {
    const t = await testApi()
    const res = await t.app.request('/v1/nope')
    expect(res.status).toBe(404)
    expect(((await res.json()) as ErrorJson).error.code).toBe('NOT_FOUND')
  })
})
