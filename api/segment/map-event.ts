/**
 * @module Segment Tracking API messages (analytics.js, analytics-node, RudderStack JS v3 and
 * rudder-sdk-node) → candidate native client events. Pure: the route validates the result with
 * `clientEvent` from streams/events, so bounds and formats are checked there, not here.
 *
 * What each client sends (read from their source): analytics-next posts one message per call to
 * `/v1/{t,i,p,g,a,s}` (or `{ writeKey, batch, sentAt }` to `/v1/b` when batching) with
 * `userId: null` before identify; analytics-node and rudder-sdk-node post `{ batch, sentAt }`
 * to `/v1/batch`; RudderStack JS v3 posts one message to `/v1/<type>`, sends `userId: ''`,
 * `properties: null`, identify traits only in `context.traits`, a numeric `context.sessionId`
 * and `context.page.referrer: '$direct'`. `sentAt` and `_metadata` are transport fields and
 * change on every retry; `channel`, `integrations` and `context.library` are not kept.
 */
import { createHash } from 'node:crypto'

export type SegmentCallType = 'track' | 'identify' | 'page' | 'screen' | 'group' | 'alias'

export type MapSegmentOptions = {
  /** The call of a single-call endpoint (`/v1/track`, `/v1/t`…); it wins over the body's type. */
  callType?: SegmentCallType
  /** The batch-level `context` of a `/v1/batch` body; each message's own context wins per field. */
  batchContext?: unknown
  /** Server time in epoch ms, used when the message carries no timestamp. */
  now: number
}

export type MapSegmentResult =
  | { ok: true; event: Record<string, unknown> }
  | { ok: false; field: string; reason: string }

type Json = Record<string, unknown>
type Mapped = { type: string; props: Json }
type Rejection = { ok: false; field: string; reason: string }

const CALL_TYPES: readonly string[] = ['track', 'identify', 'page', 'screen', 'group', 'alias']
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i
const ISO_DATE = /^\d{4}-\d{2}-\d{2}/
/** Below this an epoch number is read as seconds: 1e11 s is the year 5138, 1e11 ms is 1973. */
const EPOCH_SECONDS_BELOW = 1e11

function reject(field: string, reason: string): Rejection {
  return { ok: false, field, reason }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function objectOr(value: unknown): Json | undefined {
  return isObject(value) ? value : undefined
}

/** null and '' mean "not set": analytics-next sends `userId: null`, RudderStack `userId: ''`. */
function absent(value: unknown): value is null | undefined | '' {
  return value === undefined || value === null || value === ''
}

function first(...values: unknown[]): unknown {
  return values.find((value) => !absent(value))
}

/** Ids may arrive as numbers (`product_id: 123`, `userId: 42`); the contract wants strings. */
function idOf(value: unknown): unknown {
  const present = absent(value) ? undefined : value
  return typeof present === 'number' && Number.isFinite(present) ? String(present) : present
}

const textOf = idOf

/** Numeric strings ("19.99") become numbers; anything else is left for the validator to name. */
function numberOf(value: unknown): unknown {
  const present = absent(value) ? undefined : value
  return typeof present === 'string' && NUMERIC.test(present.trim()) ? Number(present) : present
}

function currencyOf(value: unknown): unknown {
  return typeof value === 'string' && value !== '' ? value.trim().toUpperCase() : textOf(value)
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

function compact(object: Json): Json {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined))
}

function mapProduct(p: Json): Json {
  return compact({
    // `id` is the product id's name in the v1 spec; a bare sku is the last resort.
    productId: idOf(first(p.product_id, p.id, p.sku)),
    sku: idOf(p.sku),
    name: textOf(p.name),
    category: textOf(p.category),
    brand: textOf(p.brand),
    variant: textOf(p.variant),
    price: numberOf(p.price),
    currency: currencyOf(p.currency),
    quantity: numberOf(p.quantity),
    position: numberOf(p.position),
    url: textOf(p.url),
    imageUrl: textOf(p.image_url),
  })
}

/** Checkout Started carries `value` and maybe only `checkout_id` in the spec; both fall back. */
function mapOrder(p: Json, orderIdFallback: unknown): Json {
  const products = Array.isArray(p.products)
    ? p.products.map((item) => (isObject(item) ? mapProduct(item) : item))
    : undefined
  return compact({
    orderId: idOf(first(p.order_id, orderIdFallback)),
    total: numberOf(first(p.total, p.value)),
    revenue: numberOf(p.revenue),
    shipping: numberOf(p.shipping),
    tax: numberOf(p.tax),
    discount: numberOf(p.discount),
    coupon: textOf(p.coupon),
    currency: currencyOf(p.currency),
    products,
  })
}

function productWith(type: string, key: string, source: string): (p: Json) => Mapped {
  return (p) => ({ type, props: compact({ ...mapProduct(p), [key]: idOf(p[source]) }) })
}

/**
 * Track names of the e-commerce spec v2 and the B2B spec's sign-in events, matched ignoring
 * case and separators ("product_viewed" is "Product Viewed"). Other names become Custom.
 */
const TRACK_MAPPERS: ReadonlyMap<string, (p: Json, traits: Json | undefined) => Mapped> = new Map([
  ['product viewed', (p) => ({ type: 'ProductViewed', props: mapProduct(p) })],
  ['product clicked', productWith('ClickedProduct', 'listId', 'list_id')],
  ['product added', productWith('AddedToCart', 'cartId', 'cart_id')],
  ['product removed', productWith('RemovedFromCart', 'cartId', 'cart_id')],
  ['checkout started', (p) => ({ type: 'CheckoutStarted', props: mapOrder(p, p.checkout_id) })],
  ['order completed', (p) => ({ type: 'OrderCompleted', props: mapOrder(p, undefined) })],
  [
    'products searched',
    (p) => ({ type: 'SearchPerformed', props: compact({ query: textOf(p.query) }) }),
  ],
  ['signed in', (_p, traits) => ({ type: 'UserLoggedIn', props: compact({ traits }) })],
  ['signed out', () => ({ type: 'UserLoggedOut', props: {} })],
])

/** Reads `context.<key>` (or `context.<key>.<sub>`), the message's context before the batch's. */
function fromContext(contexts: Json[], key: string, sub?: string): unknown {
  for (const context of contexts) {
    const value = context[key]
    const found = sub === undefined ? value : objectOr(value)?.[sub]
    if (!absent(found)) {
      return found
    }
  }
  return undefined
}

function nativeContext(contexts: Json[]): Json {
  const referrer = stringOf(fromContext(contexts, 'page', 'referrer'))
  return compact({
    url: stringOf(fromContext(contexts, 'page', 'url')),
    referrer: referrer === '$direct' ? undefined : referrer,
    userAgent: stringOf(fromContext(contexts, 'userAgent')),
    locale: stringOf(fromContext(contexts, 'locale')),
    ip: stringOf(fromContext(contexts, 'ip')),
    timezone: stringOf(fromContext(contexts, 'timezone')),
  })
}

function mapCall(callType: string, message: Json, contexts: Json[]): Mapped | Rejection {
  const properties = objectOr(message.properties) ?? {}
  const traits = objectOr(fromContext(contexts, 'traits'))
  if (callType === 'identify') {
    return { type: 'UserLoggedIn', props: compact({ traits: objectOr(message.traits) ?? traits }) }
  }
  if (callType === 'page' || callType === 'screen') {
    const page = (sub: string) => first(properties[sub], fromContext(contexts, 'page', sub))
    return {
      type: 'PageViewed',
      props: compact({
        name: textOf(first(message.name, properties.name)),
        category: textOf(first(message.category, properties.category)),
        path: textOf(page('path')),
        title: textOf(page('title')),
        url: textOf(page('url')),
      }),
    }
  }
  if (callType === 'group' || callType === 'alias') {
    const details =
      callType === 'group'
        ? { groupId: idOf(message.groupId), traits: objectOr(message.traits) }
        : { previousId: idOf(message.previousId) }
    return { type: 'Custom', props: { name: callType, properties: compact(details) } }
  }
  const name = textOf(message.event)
  if (typeof name !== 'string') {
    return reject('event', 'expected the event name of a track call')
  }
  const mapper = TRACK_MAPPERS.get(
    name
      .trim()
      .toLowerCase()
      .replace(/[\s_-]+/g, ' '),
  )
  return mapper ? mapper(properties, traits) : { type: 'Custom', props: { name, properties } }
}

/** Epoch ms, undefined when not set, or null when set but unreadable. */
function parseTime(value: unknown): number | null | undefined {
  if (absent(value)) {
    return undefined
  }
  const numeric = typeof value === 'string' && NUMERIC.test(value.trim()) ? Number(value) : value
  if (typeof numeric === 'number') {
    if (!Number.isFinite(numeric)) {
      return null
    }
    return Math.round(Math.abs(numeric) < EPOCH_SECONDS_BELOW ? numeric * 1000 : numeric)
  }
  if (typeof numeric === 'string' && ISO_DATE.test(numeric.trim())) {
    const ms = Date.parse(numeric.trim())
    return Number.isNaN(ms) ? null : ms
  }
  return null
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(stableJson).join(',')}]`
  }
  if (isObject(value)) {
    const keys = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort()
    return `{${keys.map((key) => `${JSON.stringify(key)}:${stableJson(value[key])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/**
 * The dedup id of a message sent without `messageId`: `seg-` + the first 32 hex digits of the
 * SHA-256 of the message with sorted keys, without `sentAt` and `_metadata` (both rewritten on
 * every retry), plus its call type. A retried identical message therefore gets the same id and
 * counts once; two genuinely identical calls without ids also count once, which is the price.
 */
function derivedId(message: Json, callType: string): string {
  const stable = Object.fromEntries(
    Object.entries(message).filter(([key]) => key !== 'sentAt' && key !== '_metadata'),
  )
  const digest = createHash('sha256').update(stableJson({ ...stable, type: callType }))
  return `seg-${digest.digest('hex').slice(0, 32)}`
}

/**
 * Maps one Segment/RudderStack message onto a native client event (`id, type, v, anonymousId,
 * userId, sessionId, ts, context, traceparent, props`), or says which field makes it unusable.
 * Every track call maps to something: names outside the specs become `Custom`.
 * @example mapSegmentMessage({ type: 'track', event: 'Product Viewed', anonymousId: 'a1', properties: { product_id: 7 } }, { now: Date.now() })
 */
export function mapSegmentMessage(message: unknown, opts: MapSegmentOptions): MapSegmentResult {
  if (!isObject(message)) {
    return reject('message', `expected a JSON object: a Segment ${CALL_TYPES.join(', ')} call`)
  }
  const rawType = typeof message.type === 'string' ? message.type.trim().toLowerCase() : undefined
  const callType = opts.callType ?? rawType
  if (callType === undefined || !CALL_TYPES.includes(callType)) {
    return reject('type', `expected type to be one of ${CALL_TYPES.join(', ')}`)
  }
  const userId = idOf(message.userId)
  const anonymousId = idOf(message.anonymousId)
  if (userId === undefined && anonymousId === undefined) {
    return reject('userId', 'expected userId or anonymousId (one is required)')
  }
  let ts = opts.now
  for (const field of ['timestamp', 'originalTimestamp']) {
    const parsed = parseTime(message[field])
    if (parsed === null) {
      const got = JSON.stringify(message[field])?.slice(0, 64)
      return reject(field, `expected an ISO-8601 date-time or epoch ms, got ${got}`)
    }
    if (parsed !== undefined) {
      ts = parsed
      break
    }
  }
  const contexts = [objectOr(message.context), objectOr(opts.batchContext)].filter(isObject)
  const mapped = mapCall(callType, message, contexts)
  if ('ok' in mapped) {
    return mapped
  }
  let id = idOf(message.messageId)
  if (id === undefined) {
    try {
      id = derivedId(message, callType)
    } catch {
      return reject('messageId', 'message too deeply nested to derive an id; send a messageId')
    }
  }
  const context = nativeContext(contexts)
  const event = compact({
    id,
    type: mapped.type,
    v: 1,
    anonymousId,
    userId,
    sessionId: idOf(fromContext(contexts, 'sessionId')),
    ts,
    context: Object.keys(context).length > 0 ? context : undefined,
    traceparent: stringOf(fromContext(contexts, 'traceparent')),
    props: mapped.props,
  })
  return { ok: true, event }
}
