import { describe, expect, it } from 'vitest'
import { basic, testApi } from '../../test/harness'
import { readLog } from '../../test/log'

describe('Segment Tracking API (in process)', () => {
  it('takes analytics.js short-form calls sent as text/plain with the key in the body', async () => {
    const t = await testApi()
    const res = await t.app.request('/v1/t', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'http://localhost:5173' },
      body: JSON.stringify({
        writeKey: t.site.writeKey,
        type: 'track',
        event: 'Products Searched',
        messageId: 'ajs-next-1-abc',
        anonymousId: 'anon-5',
        userId: null,
        properties: { query: 'red shoes' },
        context: { page: { url: 'http://localhost:5173/search' }, userAgent: 'Mozilla/5.0' },
        timestamp: '2026-11-27T10:00:00.000Z',
      }),
    })
    expect(res.status, await res.clone().text()).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    const [stored] = await readLog(t.redis, t.prefix, 4)
    expect(stored).toMatchObject({
      id: 'ajs-next-1-abc',
      type: 'SearchPerformed',
      anonymousId: 'anon-5',
      ts: Date.parse('2026-11-27T10:00:00.000Z'),
      props: { query: 'red shoes' },
      context: { url: 'http://localhost:5173/search', userAgent: 'Mozilla/5.0' },
    })
  })

  it('maps each message of a batch and names the failing field of a rejected one', async () => {
    const t = await testApi()
    const res = await t.app.request('/v1/batch', {
      method: 'POST',
      headers: { authorization: basic(t.site.writeKey) },
      body: JSON.stringify({
        batch: [
          {
            type: 'identify',
            messageId: 'm1',
            anonymousId: 'a',
            userId: 'u',
            traits: { plan: 'pro' },
          },
          {
            type: 'track',
            messageId: 'm2',
            anonymousId: 'a',
            event: 'Product Viewed',
            properties: { product_id: 'x', price: 'free' },
          },
          { type: 'fly', messageId: 'm3', anonymousId: 'a' },
        ],
      }),
    })
    const body = (await res.json()) as {
      accepted: number
      rejected: { index: number; id: string; issues: { field: string; reason: string }[] }[]
    }
    expect(res.status, JSON.stringify(body)).toBe(200)
    expect(body.accepted).toBe(1)
    expect(body.rejected.map((r) => [r.index, r.id])).toEqual([
      [1, 'm2'],
      [2, 'm3'],
    ])
    expect(body.rejected[0]?.issues[0]?.field).toBe('batch[1].props.price')
    expect(body.rejected[1]?.issues[0]?.field).toMatch(/^batch\[2\]\./)
  })

  it('answers 400 naming the expected shape for a batch that is not an array', async () => {
    const t = await testApi()
    const res = await t.app.request('/v1/batch', {
      method: 'POST',
      headers: { authorization: basic(t.site.writeKey) },
      body: JSON.stringify({ batch: {} }),
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
      '"batch"',
    )
  })

  it('serves analytics.js settings that point the SDK back at this server', async () => {
    const t = await testApi()
    const res = await t.app.request(
      `http://nudge.local:3000/v1/projects/${t.site.writeKey}/settings`,
    )
    expect(res.status).toBe(200)
    const settings = (await res.json()) as {
      integrations: { 'Segment.io': { apiKey: string; apiHost: string; protocol: string } }
    }
    expect(settings.integrations['Segment.io']).toMatchObject({
      apiKey: t.site.writeKey,
      apiHost: 'nudge.local:3000/v1',
      protocol: 'http',
    })
    const unknown = await t.app.request('/v1/projects/wk_nope/settings')
    expect(unknown.status).toBe(401)
  })

  it('serves RudderStack source config for the Basic-auth write key', async () => {
    const t = await testApi({ NUDGE_PUBLIC_URL: 'https://nudge.example.com' })
    const res = await t.app.request('/sourceConfig/?p=npm&v=3.0.0', {
      headers: { authorization: basic(t.site.writeKey) },
    })
    expect(res.status).toBe(200)
    const config = (await res.json()) as {
      source: { id: string; writeKey: string; enabled: boolean; destinations: unknown[] }
    }
    expect(config.source).toMatchObject({
      id: t.site.site.id,
      writeKey: t.site.writeKey,
      enabled: true,
      destinations: [],
    })
  })
})
