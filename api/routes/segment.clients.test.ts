/**
 * Real Segment and RudderStack server clients, unchanged, pointed at a running api: their calls
 * land in the log mapped to native types; when the api answers 503 they retry, and nothing
 * counts twice.
 */

import RudderAnalytics from '@rudderstack/rudder-sdk-node'
import { Analytics as SegmentAnalytics } from '@segment/analytics-node'
import { describe, expect, it } from 'vitest'
import { testApi } from '../../test/harness'
import { readLog } from '../../test/log'
import { serveApp } from '../../test/serve'
import { tcpProxy } from '../../test/tcp-proxy'

function segmentClient(url: string, writeKey: string) {
  return new SegmentAnalytics({
    writeKey,
    host: url,
    flushAt: 5,
    flushInterval: 50,
    maxRetries: 10,
  })
}

function rudderClient(url: string, writeKey: string) {
  return new RudderAnalytics(writeKey, {
    dataPlaneUrl: url,
    flushAt: 5,
    flushInterval: 50,
    retryCount: 6,
    logLevel: 'error',
  })
}

function flushRudder(client: RudderAnalytics): Promise<void> {
  return new Promise((resolve, reject) => {
    client.flush((err?: Error) => (err ? reject(err) : resolve()))
  })
}

describe('real Segment-protocol clients', () => {
  it('@segment/analytics-node: identify, track and page land mapped to native types', async () => {
    const t = await testApi()
    const { url } = await serveApp(t.app)
    const client = segmentClient(url, t.site.secret)
    client.identify({ userId: 'u-7', traits: { plan: 'gold' } })
    client.track({
      userId: 'u-7',
      event: 'Product Viewed',
      properties: { product_id: 'sku-1', category: 'Shoes', price: '59.90', currency: 'eur' },
    })
    client.track({
      userId: 'u-7',
      event: 'Order Completed',
      properties: { order_id: 'o-1', total: 59.9 },
    })
    client.track({ anonymousId: 'a-1', event: 'Wishlist Shared', properties: { list: 'summer' } })
    client.page({ userId: 'u-7', name: 'Home', properties: { url: 'https://shop.example/' } })
    await client.closeAndFlush({ timeout: 10_000 })

    const log = await readLog(t.redis, t.prefix, 4)
    expect(log.map((e) => e.type).sort()).toEqual(
      ['Custom', 'OrderCompleted', 'PageViewed', 'ProductViewed', 'UserLoggedIn'].sort(),
    )
    const viewed = log.find((e) => e.type === 'ProductViewed')
    expect(viewed?.props).toMatchObject({
      productId: 'sku-1',
      category: 'Shoes',
      price: 59.9,
      currency: 'EUR',
    })
    expect(viewed?.verified).toBe(true)
    expect(log.find((e) => e.type === 'Custom')?.props).toEqual({
      name: 'Wishlist Shared',
      properties: { list: 'summer' },
    })
  })

  it('@rudderstack/rudder-sdk-node: gzip batches land mapped to native types', async () => {
    const t = await testApi()
    const { url } = await serveApp(t.app)
    const client = rudderClient(url, t.site.writeKey)
    client.identify({ userId: 'u-9', anonymousId: 'anon-9', traits: { name: 'Ada' } })
    client.track({
      anonymousId: 'anon-9',
      event: 'Product Added',
      properties: { product_id: 'p-2', quantity: 2 },
    })
    client.page({ anonymousId: 'anon-9', name: 'Cart' })
    await flushRudder(client)

    const log = await readLog(t.redis, t.prefix, 4)
    expect(log.map((e) => e.type).sort()).toEqual(['AddedToCart', 'PageViewed', 'UserLoggedIn'])
    expect(log.find((e) => e.type === 'AddedToCart')?.props).toMatchObject({
      productId: 'p-2',
      quantity: 2,
    })
    // Sent with the public write key: the claimed userId is not trusted.
    expect(log.every((e) => e.verified === false)).toBe(true)
  })

  it('both clients retry through a 503 while Redis is unreachable, and nothing counts twice', async () => {
    const proxy = await tcpProxy(6379)
    const t = await testApi({}, { redisUrl: `redis://127.0.0.1:${proxy.port}` })
    const { url, statuses } = await serveApp(t.app)
    proxy.down()

    const segment = segmentClient(url, t.site.writeKey)
    const rudder = rudderClient(url, t.site.writeKey)
    for (let i = 0; i < 5; i++) {
      segment.track({
        anonymousId: 'seg-a',
        event: 'Product Clicked',
        properties: { product_id: `s${i}` },
      })
      rudder.track({
        anonymousId: 'rud-a',
        event: 'Product Clicked',
        properties: { product_id: `r${i}` },
      })
    }
    const flushed = Promise.all([segment.closeAndFlush({ timeout: 20_000 }), flushRudder(rudder)])
    // Let both clients meet the outage, then bring Redis back.
    const deadline = Date.now() + 5_000
    while (statuses.filter((s) => s === 503).length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25))
    }
    proxy.up()
    await flushed

    expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(2)
    const log = await readLog(t.redis, t.prefix, 4)
    const products = log.map((e) => (e.props as { productId: string }).productId).sort()
    expect(products).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 's0', 's1', 's2', 's3', 's4'])
    expect(new Set(log.map((e) => e.id)).size).toBe(log.length)
  })

  it('a batch resent after a lost answer counts once', async () => {
    const t = await testApi()
    const { url } = await serveApp(t.app)
    const body = JSON.stringify({
      batch: [
        {
          type: 'track',
          messageId: 'm-1',
          anonymousId: 'a',
          event: 'Product Viewed',
          properties: { product_id: 'p' },
        },
        {
          type: 'track',
          messageId: 'm-2',
          anonymousId: 'a',
          event: 'Product Viewed',
          properties: { product_id: 'q' },
        },
      ],
    })
    const send = () =>
      fetch(`${url}/v1/batch`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${t.site.writeKey}:`).toString('base64')}`,
        },
        body,
      })
    expect(await (await send()).json()).toMatchObject({ accepted: 2, duplicates: 0 })
    expect(await (await send()).json()).toMatchObject({ accepted: 0, duplicates: 2 })
    expect(await readLog(t.redis, t.prefix, 4)).toHaveLength(2)
  })
})
