/**
 * @module Realistic ingest traffic derived from the OTTO RecSys sample in data/
 * (CC BY 4.0, © OTTO (GmbH & Co KG), github.com/otto-de/recsys-dataset; see data/README.md).
 * Each batch is a slice of one shopper's session as native events: clicks become ProductViewed
 * or ClickedProduct, carts AddedToCart, orders (grouped by timestamp) OrderCompleted. Items,
 * sessions, order and relative timing are OTTO's; categories, prices, URLs and user agents are
 * made up, deterministically per item and session.
 *
 * Batches are kept as templates split at a marker inside every event id, so each send joins
 * them with its own tag: fresh ids per send (the api deduplicates by id) without serialising
 * the events again.
 */
import { readFileSync } from 'node:fs'
import { partitionOf, profileKey } from '../streams/partition'

export const SAMPLE_PATH = new URL('../data/otto-sample.jsonl', import.meta.url)

/** Stands for the per-send tag inside every event id; never occurs in the generated data. */
const MARK = '~TAG~'

type OttoEvent = { aid: number; ts: number; type: 'clicks' | 'carts' | 'orders' }
type OttoSession = { session: number; events: OttoEvent[] }

/** One shopper action: a click or cart of one item, or an order of the items bought at once. */
type Action = { type: OttoEvent['type']; ts: number; aids: number[] }

/** A native event before its id is tagged; the id holds MARK. */
type ClientEventDraft = { id: string; anonymousId: string; [field: string]: unknown }

/** A request body (or a stored event) split at MARK: `parts.join(tag)` makes one instance. */
export type Template = { parts: string[] }

/** One request's worth of events: the body template and how many events it carries. */
export type BatchTemplate = { body: Template; events: number; anonymousId: string }

/** One event as the api would store it, for writing straight to the log. */
export type StoredTemplate = { partition: number; id: Template; json: Template }

const CATEGORIES = [
  'Fashion',
  'Shoes',
  'Sports',
  'Home',
  'Furniture',
  'Kitchen',
  'Electronics',
  'Toys',
  'Beauty',
  'Garden',
  'Books',
  'DIY',
] as const

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7; rv:125.0) Gecko/20100101 Firefox/125.0',
] as const

const SHOP = 'https://shop.example'

/** Reads the sample: one session a line. */
export function loadSample(path: URL | string = SAMPLE_PATH): OttoSession[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as OttoSession)
}

function categoryOf(aid: number): string {
  return CATEGORIES[aid % CATEGORIES.length] ?? 'Home'
}

function priceOf(aid: number): number {
  return Math.round((4.99 + ((aid * 7_919) % 19_997) / 100) * 100) / 100
}

function productOf(aid: number) {
  const category = categoryOf(aid)
  return {
    productId: String(aid),
    name: `${category} item ${aid}`,
    category,
    price: priceOf(aid),
    currency: 'EUR',
  }
}

/** Orders of several items share a timestamp in OTTO; they are one checkout. */
function actionsOf(session: OttoSession): Action[] {
  const actions: Action[] = []
  for (const event of session.events) {
    const last = actions[actions.length - 1]
    if (event.type === 'orders' && last?.type === 'orders' && last.ts === event.ts) {
      last.aids.push(event.aid)
    } else {
      actions.push({ type: event.type, ts: event.ts, aids: [event.aid] })
    }
  }
  return actions
}

function draftOf(
  session: number,
  action: Action,
  index: number,
  shiftMs: number,
  referrer: string,
): ClientEventDraft {
  const aid = action.aids[0] ?? 0
  const anonymousId = `otto-${session}`
  const base = {
    id: `ev-${MARK}-${session}-${index}`,
    v: 1,
    anonymousId,
    sessionId: `s-${session}`,
    ts: action.ts + shiftMs,
  }
  const context = {
    url: `${SHOP}/p/${aid}`,
    referrer,
    userAgent: USER_AGENTS[session % USER_AGENTS.length],
    locale: 'de-DE',
    timezone: 'Europe/Berlin',
  }
  if (action.type === 'carts') {
    return {
      ...base,
      type: 'AddedToCart',
      context,
      props: { ...productOf(aid), quantity: 1, cartId: `cart-${session}` },
    }
  }
  if (action.type === 'orders') {
    const products = action.aids.map((item) => ({ ...productOf(item), quantity: 1 }))
    const total = Math.round(products.reduce((sum, p) => sum + p.price, 0) * 100) / 100
    return {
      ...base,
      type: 'OrderCompleted',
      context: { ...context, url: `${SHOP}/checkout/thanks` },
      props: { orderId: `o-${session}-${action.ts}`, total, currency: 'EUR', products },
    }
  }
  // A third of the clicks are taken as clicks on a list tile, the rest as the page they open.
  if (action.ts % 3 === 0) {
    return {
      ...base,
      type: 'ClickedProduct',
      context,
      props: { ...productOf(aid), listId: 'search-results', position: action.ts % 48 },
    }
  }
  return { ...base, type: 'ProductViewed', context, props: productOf(aid) }
}

/**
 * Slices every session into batches of exactly `batchSize` events, wrapping around sessions
 * shorter than that, so the mix of event types follows the sample. Event times are shifted so
 * the newest event of the sample falls at `now`.
 * @example const batches = buildBatches(loadSample(), 20, Date.now())
 */
export function buildBatches(
  sessions: readonly OttoSession[],
  batchSize: number,
  now: number,
): ClientEventDraft[][] {
  const newest = Math.max(...sessions.flatMap((s) => s.events.map((e) => e.ts)))
  const shiftMs = now - newest
  const batches: ClientEventDraft[][] = []
  for (const session of sessions) {
    const actions = actionsOf(session)
    if (actions.length === 0) {
      continue
    }
    const drafts = actions.map((action, i) => {
      const previous = actions[i - 1]?.aids[0]
      const referrer = previous === undefined ? `${SHOP}/` : `${SHOP}/p/${previous}`
      return { action, referrer }
    })
    const count = Math.ceil(actions.length / batchSize)
    for (let b = 0; b < count; b++) {
      const batch: ClientEventDraft[] = []
      for (let i = 0; i < batchSize; i++) {
        const index = b * batchSize + i
        const draft = drafts[index % drafts.length]
        if (draft) {
          batch.push(draftOf(session.session, draft.action, index, shiftMs, draft.referrer))
        }
      }
      batches.push(batch)
    }
  }
  return batches
}

function template(text: string): Template {
  return { parts: text.split(MARK) }
}

/** Request bodies for POST /v1/events, one per batch. */
export function bodyTemplates(batches: readonly ClientEventDraft[][]): BatchTemplate[] {
  return batches.map((events) => ({
    body: template(JSON.stringify({ events })),
    events: events.length,
    anonymousId: events[0]?.anonymousId ?? '',
  }))
}

/**
 * The same events in their stored form (server stamps added, serialised once), with the
 * partition the api would choose, for the XADD ceiling.
 */
export function storedTemplates(
  batches: readonly ClientEventDraft[][],
  siteId: string,
  partitions: number,
  receivedAt: number,
): StoredTemplate[] {
  return batches.flat().map((event) => {
    const stored = { ...event, receivedAt, siteId, verified: false }
    return {
      partition: partitionOf(profileKey(siteId, stored), partitions),
      id: template(event.id),
      json: template(JSON.stringify(stored)),
    }
  })
}

/** Makes one instance of a template. */
export function fill(t: Template, tag: string): string {
  return t.parts.join(tag)
}
