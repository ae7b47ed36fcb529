import { describe, expect, it } from 'vitest'
import { type ClientEvent, clientEvent } from '../../streams/events'
import { type MapSegmentOptions, mapSegmentMessage } from './map-event'

const now = Date.UTC(2026, 10, 27, 12)
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

/** Maps, asserts the native schema accepts the result, and returns the parsed event. */
function mapValid(message: unknown, opts: Partial<MapSegmentOptions> = {}): ClientEvent {
  const result = mapSegmentMessage(message, { now, ...opts })
  if (!result.ok) {
    throw new Error(`expected a mapped event, got ${JSON.stringify(result)}`)
  }
  const parsed = clientEvent.safeParse(result.event)
  if (!parsed.success) {
    throw new Error(`${JSON.stringify(result.event)} fails clientEvent: ${parsed.error.message}`)
  }
  return parsed.data
}

// analytics-next, standard delivery: one message per call, POST text/plain to `/v1/t`. Shape from
// packages/browser/src/plugins/segmentio/normalize.ts (writeKey, sentAt, userId null before
// identify, _metadata), core/page/add-page-context.ts (context.page) and analytics-core's
// CoreEventFactory.normalize (timestamp, integrations, messageId `ajs-next-<ms>-<uuid>`).
const ajsContext = {
  page: {
    path: '/p/monopoly',
    referrer: '',
    search: '',
    title: 'Monopoly',
    url: 'https://shop.example/p/monopoly',
  },
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36',
  locale: 'en-US',
  library: { name: 'analytics.js', version: 'npm:next-1.72.0' },
}
const ajsTrack = {
  timestamp: '2026-11-27T11:59:58.120Z',
  integrations: {},
  type: 'track',
  event: 'Product Viewed',
  properties: {
    product_id: '507f1f77bcf86cd799439011',
    sku: 'G-32',
    category: 'Games',
    name: 'Monopoly: 3rd Edition',
    brand: 'Hasbro',
    variant: '200 pieces',
    price: '18.99',
    quantity: 1,
    currency: 'usd',
    position: 3,
    url: 'https://shop.example/p/monopoly',
    image_url: 'https://shop.example/p/monopoly.jpg',
  },
  context: ajsContext,
  messageId: 'ajs-next-1795780798120-4a0b3ff0-7c8e-4b1c-9a4e-2f1d3c5b6a7e',
  anonymousId: '6f7d5a2e-1c3b-4e8f-9a0d-2b4c6e8f0a1b',
  userId: null,
  writeKey: 'wk_test',
  sentAt: '2026-11-27T11:59:58.125Z',
  _metadata: { bundled: ['Segment.io'], unbundled: [], bundledIds: [] },
}
// analytics.page('Games', 'Product Page'): the factory sets top-level category and name and
// copies category into properties; add-page-context.ts fills properties from the page.
const ajsPage = {
  ...ajsTrack,
  type: 'page',
  event: undefined,
  category: 'Games',
  name: 'Product Page',
  properties: { ...ajsContext.page, category: 'Games', name: 'Product Page' },
  messageId: 'ajs-next-1795780798200-0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9',
}

// @segment/analytics-node 3.1.0 (node_modules, plugins/segmentio/publisher.ts and index.js):
// POST application/json to `/v1/batch`, Basic auth `writeKey:`, body `{ batch, writeKey, sentAt }`;
// messages carry `timestamp`, `messageId: node-next-…`, `_metadata.nodeVersion|jsRuntime`.
const nodeLibrary = { name: '@segment/analytics-node', version: '3.1.0' }
const analyticsNodeBody = {
  batch: [
    {
      timestamp: '2026-11-27T11:58:00.000Z',
      integrations: {},
      type: 'track',
      event: 'Order Completed',
      properties: {
        order_id: 50314,
        total: '27.50',
        revenue: 25,
        shipping: 3,
        tax: '2',
        discount: 2.5,
        coupon: 'hasbros',
        currency: 'eur',
        products: [
          { product_id: 507, sku: '45790-32', name: 'Monopoly', price: '19', quantity: '1' },
          { product_id: '505bd76785ebb509fc183733', name: 'Uno', price: 3, quantity: 2 },
        ],
      },
      context: { ...ajsContext, library: nodeLibrary },
      userId: 'user-42',
      messageId: 'node-next-1795780680000-9c0e1f2a-3b4c-4d5e-8f60-718293a4b5c6',
      _metadata: { nodeVersion: 'v20.19.0', jsRuntime: 'node' },
    },
    {
      timestamp: '2026-11-27T11:58:01.000Z',
      integrations: {},
      type: 'identify',
      traits: { email: 'ana@example.com', plan: 'gold' },
      context: { library: nodeLibrary },
      userId: 'user-42',
      messageId: 'node-next-1795780681000-0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9',
      _metadata: { nodeVersion: 'v20.19.0', jsRuntime: 'node' },
    },
  ],
  writeKey: 'wk_test',
  sentAt: '2026-11-27T11:58:02.000Z',
}

// @rudderstack/rudder-sdk-node 3.0.13 (node_modules, esm/index.js enqueue/flush): POST gzip to
// `/v1/batch`, Basic auth, body `{ batch, timestamp, sentAt }` without writeKey; each message gets
// `originalTimestamp`, a uuid messageId, its own `sentAt`, `channel: 'server'`, identify traits
// copied into context.traits, and a numeric userId turned into a string.
const rudderNodeLibrary = { name: 'analytics-node', version: '3.0.13' }
const rudderNodeCheckout = {
  userId: '42',
  event: 'Checkout Started',
  properties: {
    checkout_id: 'chk_77',
    value: 30,
    currency: 'usd',
    products: [{ product_id: 'p-1', price: 10, quantity: 3 }],
  },
  type: 'track',
  context: { library: rudderNodeLibrary },
  channel: 'server',
  _metadata: { nodeVersion: '20.19.0' },
  originalTimestamp: '2026-11-27T11:57:00.000Z',
  messageId: '3d0b2f7c-6a5e-4f1b-9c8d-7e6f5a4b3c2d',
  sentAt: '2026-11-27T11:57:01.000Z',
}

// RudderStack JS SDK v3 (rudder-sdk-js components/eventManager/utilities.ts getEnrichedEvent;
// the payload below follows rudder-transformer's userpilot fixture captured from that SDK): one
// message per call to `/v1/<type>`, userId '' before identify, `event`/`properties` null outside
// track, identify traits only in context.traits, numeric sessionId, referrer '$direct'.
const rudderJsContext = {
  traits: { name: 'John Doe', email: 'name.surname@domain.com' },
  sessionId: 1742115400440,
  app: { name: 'RudderLabs JavaScript SDK', namespace: 'com.rudderlabs.javascript' },
  library: { name: 'RudderLabs JavaScript SDK', version: '3.11.0' },
  userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/134.0.0.0 Safari/537.36',
  os: { name: '', version: '' },
  locale: 'en',
  screen: { width: 1728, height: 1117, density: 2 },
  campaign: {},
  page: {
    path: '/',
    referrer: '$direct',
    referring_domain: '',
    search: '',
    title: 'Home',
    url: 'https://shop.example/',
    tab_url: 'https://shop.example/',
    initial_referrer: '$direct',
    initial_referring_domain: '',
  },
  timezone: 'GMT+0200',
}
const rudderJsIdentify = {
  userId: 'customUserID',
  type: 'identify',
  context: rudderJsContext,
  channel: 'web',
  originalTimestamp: '2025-03-16T08:57:10.737Z',
  messageId: '5799e19f-57e9-4a36-a34b-369d455b8332',
  anonymousId: 'd681c65d-f3fd-4f2e-b9a7-d5c2ae3c8b9b',
  event: null,
  properties: null,
  integrations: { All: true },
  sentAt: '2025-03-16T08:57:10.737Z',
}
const rudderJsPage = {
  ...rudderJsIdentify,
  type: 'page',
  userId: '',
  name: 'Home',
  category: null,
  properties: { ...rudderJsContext.page, name: 'Home', category: null },
  messageId: '312ccd7b-c080-439e-bbb4-468c3bd4a55f',
}

describe('analytics-next messages', () => {
  it('maps a /v1/t Product Viewed call field by field', () => {
    const event = mapValid(ajsTrack)
    expect(event).toEqual({
      id: ajsTrack.messageId,
      type: 'ProductViewed',
      v: 1,
      anonymousId: ajsTrack.anonymousId,
      ts: Date.parse('2026-11-27T11:59:58.120Z'),
      context: { url: ajsContext.page.url, userAgent: ajsContext.userAgent, locale: 'en-US' },
      props: {
        productId: '507f1f77bcf86cd799439011',
        sku: 'G-32',
        category: 'Games',
        name: 'Monopoly: 3rd Edition',
        brand: 'Hasbro',
        variant: '200 pieces',
        price: 18.99,
        quantity: 1,
        currency: 'USD',
        position: 3,
        url: 'https://shop.example/p/monopoly',
        imageUrl: 'https://shop.example/p/monopoly.jpg',
      },
    })
  })

  it('maps a page call with top-level name and category to PageViewed', () => {
    const event = mapValid(ajsPage, { callType: 'page' })
    expect(event.type).toBe('PageViewed')
    expect(event.props).toEqual({
      name: 'Product Page',
      category: 'Games',
      path: '/p/monopoly',
      title: 'Monopoly',
      url: 'https://shop.example/p/monopoly',
    })
  })

  it('maps every message of a /v1/b batch, which carries sentAt once for the batch', () => {
    const { sentAt: _sentAt, ...first } = ajsTrack
    const body = {
      writeKey: 'wk_test',
      batch: [first, { ...first, messageId: 'm-2' }],
      sentAt: now,
    }
    const ids = body.batch.map((message) => mapValid(message).id)
    expect(ids).toEqual([ajsTrack.messageId, 'm-2'])
  })
})

describe('server SDK batches', () => {
  it('maps an analytics-node Order Completed with numeric strings and numeric ids', () => {
    const event = mapValid(analyticsNodeBody.batch[0])
    expect(event.type).toBe('OrderCompleted')
    expect(event.userId).toBe('user-42')
    expect(event.props).toEqual({
      orderId: '50314',
      total: 27.5,
      revenue: 25,
      shipping: 3,
      tax: 2,
      discount: 2.5,
      coupon: 'hasbros',
      currency: 'EUR',
      products: [
        { productId: '507', sku: '45790-32', name: 'Monopoly', price: 19, quantity: 1 },
        { productId: '505bd76785ebb509fc183733', name: 'Uno', price: 3, quantity: 2 },
      ],
    })
  })

  it('maps an analytics-node identify to UserLoggedIn with its traits', () => {
    const event = mapValid(analyticsNodeBody.batch[1])
    expect(event).toMatchObject({ type: 'UserLoggedIn', userId: 'user-42' })
    expect(event.props).toEqual({ traits: { email: 'ana@example.com', plan: 'gold' } })
  })

  it('maps a rudder-sdk-node Checkout Started using checkout_id, value and originalTimestamp', () => {
    const event = mapValid(rudderNodeCheckout)
    expect(event.type).toBe('CheckoutStarted')
    expect(event.ts).toBe(Date.parse('2026-11-27T11:57:00.000Z'))
    expect(event.props).toEqual({
      orderId: 'chk_77',
      total: 30,
      currency: 'USD',
      products: [{ productId: 'p-1', price: 10, quantity: 3 }],
    })
  })
})

describe('RudderStack JS v3 messages', () => {
  it('takes identify traits from context.traits and the session from context.sessionId', () => {
    const event = mapValid(rudderJsIdentify, { callType: 'identify' })
    expect(event).toMatchObject({ type: 'UserLoggedIn', sessionId: '1742115400440' })
    expect(event.props).toEqual({ traits: rudderJsContext.traits })
    expect(event.context).toEqual({
      url: 'https://shop.example/',
      userAgent: rudderJsContext.userAgent,
      locale: 'en',
      timezone: 'GMT+0200',
    })
  })

  it('treats userId "" and null category as absent and drops the $direct referrer', () => {
    const event = mapValid(rudderJsPage)
    expect(event.userId).toBeUndefined()
    expect(event.context?.referrer).toBeUndefined()
    expect(event.props).toEqual({
      name: 'Home',
      path: '/',
      title: 'Home',
      url: 'https://shop.example/',
    })
  })
})

describe('track names', () => {
  const product = { product_id: 'p-9', price: '5.5', quantity: '2', currency: 'gbp' }
  const mapped = { productId: 'p-9', price: 5.5, quantity: 2, currency: 'GBP' }
  const order = { order_id: 'o-1', total: '11', products: [product] }
  const cases: [string, Record<string, unknown>, string, Record<string, unknown>][] = [
    ['Product Viewed', product, 'ProductViewed', mapped],
    ['Product Clicked', { ...product, list_id: 7 }, 'ClickedProduct', { ...mapped, listId: '7' }],
    ['Product Added', { ...product, cart_id: 'c-1' }, 'AddedToCart', { ...mapped, cartId: 'c-1' }],
    ['Product Removed', product, 'RemovedFromCart', mapped],
    [
      'Checkout Started',
      order,
      'CheckoutStarted',
      { orderId: 'o-1', total: 11, products: [mapped] },
    ],
    ['Order Completed', order, 'OrderCompleted', { orderId: 'o-1', total: 11, products: [mapped] }],
    [
      'Products Searched',
      { query: 'blue hotpants' },
      'SearchPerformed',
      { query: 'blue hotpants' },
    ],
    ['Signed Out', { username: 'ana' }, 'UserLoggedOut', {}],
    ['product_viewed', product, 'ProductViewed', mapped],
    [
      'Wishlist Shared',
      { list: 'xmas' },
      'Custom',
      { name: 'Wishlist Shared', properties: { list: 'xmas' } },
    ],
  ]
  it.each(cases)('maps "%s" to the right type and props', (name, properties, type, props) => {
    const event = mapValid({ type: 'track', anonymousId: 'a-1', event: name, properties })
    expect({ type: event.type, props: event.props }).toEqual({ type, props })
  })

  it('maps Signed In to UserLoggedIn with the context traits', () => {
    const message = {
      type: 'track',
      event: 'Signed In',
      userId: 'u-1',
      context: { traits: { vip: true } },
    }
    expect(mapValid(message).props).toEqual({ traits: { vip: true } })
  })

  it('keeps group and alias calls as Custom events named after the call', () => {
    const group = mapValid({ type: 'group', userId: 'u-1', groupId: 12, traits: { name: 'Acme' } })
    expect(group.props).toEqual({
      name: 'group',
      properties: { groupId: '12', traits: { name: 'Acme' } },
    })
    const alias = mapValid({ type: 'alias', userId: 'u-1', previousId: 'a-1' })
    expect(alias.props).toEqual({ name: 'alias', properties: { previousId: 'a-1' } })
  })
})

describe('ids and timestamps', () => {
  const bare = {
    type: 'track',
    event: 'Product Viewed',
    anonymousId: 'a-1',
    properties: { product_id: 'p' },
  }

  it('derives a stable id without messageId, ignoring sentAt, _metadata and key order', () => {
    const first = mapValid({ ...bare, sentAt: '2026-11-27T11:00:00Z' }).id
    const retried = { _metadata: { retryCount: 2 }, sentAt: '2026-11-27T11:05:00Z', ...bare }
    expect(first).toMatch(/^seg-[0-9a-f]{32}$/)
    expect(mapValid(retried).id).toBe(first)
    expect(mapValid({ ...bare, properties: { product_id: 'q' } }).id).not.toBe(first)
  })

  it('turns numeric user and anonymous ids of hand-written HTTP API calls into strings', () => {
    const event = mapValid({ ...bare, userId: 42, anonymousId: 7, messageId: 1001 })
    expect(event).toMatchObject({ userId: '42', anonymousId: '7', id: '1001' })
  })

  it.each([
    ['2026-11-27T10:00:00+01:00', Date.UTC(2026, 10, 27, 9)],
    [Date.UTC(2026, 10, 27, 9), Date.UTC(2026, 10, 27, 9)],
    [Date.UTC(2026, 10, 27, 9) / 1000, Date.UTC(2026, 10, 27, 9)],
    [String(Date.UTC(2026, 10, 27, 9)), Date.UTC(2026, 10, 27, 9)],
  ])('reads timestamp %s as epoch ms', (timestamp, ts) => {
    expect(mapValid({ ...bare, timestamp, originalTimestamp: '2020-01-01T00:00:00Z' }).ts).toBe(ts)
  })

  it('falls back to originalTimestamp, then to now', () => {
    expect(mapValid({ ...bare, originalTimestamp: '2026-11-27T09:00:00Z' }).ts).toBe(
      Date.UTC(2026, 10, 27, 9),
    )
    expect(mapValid({ ...bare, timestamp: null }).ts).toBe(now)
  })

  it.each([
    ['timestamp', 'March 7'],
    ['timestamp', '2026-13-45T99:00:00Z'],
    ['originalTimestamp', { at: 1 }],
  ])('rejects an unreadable %s (%j)', (field, value) => {
    const result = mapSegmentMessage({ ...bare, [field]: value }, { now })
    expect(result).toMatchObject({ ok: false, field })
  })
})

describe('context', () => {
  it('lets the message context win over the batch context, field by field', () => {
    const batchContext = { locale: 'de-DE', ip: '203.0.113.9', page: { url: 'https://a.example/' } }
    const message = { ...ajsTrack, context: { locale: 'fr-FR', traceparent } }
    const event = mapValid(message, { batchContext })
    expect(event.context).toEqual({ url: 'https://a.example/', locale: 'fr-FR', ip: '203.0.113.9' })
    expect(event.traceparent).toBe(traceparent)
  })
})

describe('unusable messages', () => {
  it.each([
    ['a string', 'track me', 'message'],
    ['an array', [ajsTrack], 'message'],
    ['no type', { event: 'x', anonymousId: 'a' }, 'type'],
    ['an unknown type', { type: 'batch', anonymousId: 'a' }, 'type'],
    ['a track without event', { type: 'track', anonymousId: 'a' }, 'event'],
    ['no identity', { type: 'track', event: 'x', userId: null, anonymousId: '' }, 'userId'],
  ])('rejects %s naming the field', (_label, message, field) => {
    const result = mapSegmentMessage(message, { now })
    expect(result).toMatchObject({ ok: false, field })
    expect(result.ok ? '' : result.reason).toMatch(/expected/)
  })

  it('uses the endpoint call type when the body has none', () => {
    const message = { anonymousId: 'a', name: 'Home', properties: { path: '/' } }
    expect(mapValid(message, { callType: 'page' }).type).toBe('PageViewed')
  })
})
