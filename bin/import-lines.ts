/**
 * @module The lines of an import file: streamed with bounded memory, CSV rows split and mapped to
 * native events, and the deterministic event id of each line. Pure apart from reading the file.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { INGEST_LIMITS } from '../api/ingest'

export type ImportFormat = 'csv' | 'jsonl'

/** A line's event (a native event for CSV, a Segment message for JSONL), or why it has none. */
export type Made =
  | { ok: true; event: Record<string, unknown> }
  | { ok: false; field: string; reason: string }

/** Maps one numbered line of a file to its event. */
export type LineMapper = (line: number, text: string) => Made

export const CSV_COLUMNS = ['user_id', 'item_id', 'category_id', 'event', 'ts'] as const
const CSV_EVENTS = new Map([
  ['view', 'ProductViewed'],
  ['cart', 'AddedToCart'],
  ['fav', 'Custom'],
  ['buy', 'OrderCompleted'],
])
const MIN_SECONDS = Date.UTC(2000, 0, 1) / 1000
const MAX_SECONDS = Date.UTC(2100, 0, 1) / 1000
/** A line longer than any request may be is cut off unread, so one bad line cannot eat memory. */
const MAX_LINE_BYTES = INGEST_LIMITS.maxBodyBytes

/**
 * The event id of a line: its number and content hashed, so the same line of the same file gets
 * the same id on every run, while two identical lines still count as two events.
 * @example importId(2, 'u1,sku-1,shoes,view,1714521600') // 'imp-…' (32 hex digits)
 */
export function importId(line: number, text: string): string {
  return `imp-${createHash('sha256').update(`${line}\n${text}`).digest('hex').slice(0, 32)}`
}

/**
 * Splits one CSV line (RFC 4180 quoting: "a,b" and "" inside quotes), or says why it cannot.
 * Fields never span lines here: ids, categories and times hold no line breaks.
 * @example parseCsvLine('u1,"a ""b""",3') // ['u1', 'a "b"', '3']
 */
export function parseCsvLine(line: string): string[] | undefined {
  const fields: string[] = []
  let i = 0
  for (;;) {
    if (line[i] === '"') {
      let value = ''
      i++
      for (;;) {
        const quote = line.indexOf('"', i)
        if (quote === -1) {
          return undefined
        }
        value += line.slice(i, quote)
        i = quote + 1
        if (line[i] !== '"') {
          break
        }
        value += '"'
        i++
      }
      fields.push(value)
      if (i < line.length && line[i] !== ',') {
        return undefined
      }
    } else {
      const comma = line.indexOf(',', i)
      fields.push(line.slice(i, comma === -1 ? line.length : comma).trim())
      i = comma === -1 ? line.length : comma
    }
    if (i >= line.length) {
      return fields
    }
    i++
  }
}

/**
 * One CSV row as a native event. `fav` becomes a Custom "Favorited" event and `buy` an order of
 * that one product; with `identity: 'user'` user_id is the userId (trusted only with the secret),
 * else the anonymousId.
 * @example csvEvent({ user_id: 'u1', item_id: 'sku-1', category_id: 'shoes', event: 'view', ts: '1714521600' }, 'imp-1', 'user')
 */
export function csvEvent(
  row: Record<string, string>,
  id: string,
  identity: 'user' | 'anonymous',
): Made {
  const {
    user_id: user = '',
    item_id: item = '',
    category_id: category = '',
    event = '',
    ts = '',
  } = row
  if (user === '') {
    return { ok: false, field: 'user_id', reason: 'required' }
  }
  if (item === '') {
    return { ok: false, field: 'item_id', reason: 'required' }
  }
  const type = CSV_EVENTS.get(event.toLowerCase())
  if (type === undefined) {
    return {
      ok: false,
      field: 'event',
      reason: `expected view, cart, fav or buy; got "${event.slice(0, 40)}"`,
    }
  }
  const seconds = /^\d+(\.\d+)?$/.test(ts) ? Number(ts) : Number.NaN
  if (!(seconds >= MIN_SECONDS && seconds < MAX_SECONDS)) {
    const hint = seconds >= MAX_SECONDS * 100 ? ' (milliseconds? ts is in seconds)' : ''
    return {
      ok: false,
      field: 'ts',
      reason: `expected Unix seconds between 2000 and 2100, got "${ts.slice(0, 40)}"${hint}`,
    }
  }
  const product = category === '' ? { productId: item } : { productId: item, category }
  const props =
    type === 'Custom'
      ? { name: 'Favorited', properties: product }
      : type === 'OrderCompleted'
        ? { orderId: id, products: [{ ...product, quantity: 1 }] }
        : product
  const who = identity === 'user' ? { userId: user } : { anonymousId: user }
  return { ok: true, event: { id, type, v: 1, ...who, ts: Math.round(seconds * 1000), props } }
}

/**
 * The mapper of a CSV file with this header line, or why the header will not do. Columns may
 * come in any order; extra columns are ignored.
 * @example const map = csvMapper('user_id,item_id,category_id,event,ts', 'user'); map(2, 'u1,sku-1,,view,1714521600')
 */
export function csvMapper(header: string, identity: 'user' | 'anonymous'): LineMapper | string {
  const names = (parseCsvLine(header) ?? []).map((name) => name.trim().toLowerCase())
  const missing = CSV_COLUMNS.filter((column) => !names.includes(column))
  if (missing.length > 0) {
    return `the CSV header lacks ${missing.join(', ')}; expected ${CSV_COLUMNS.join(',')}`
  }
  return (line, text) => {
    const fields = parseCsvLine(text)
    if (fields === undefined) {
      return { ok: false, field: '(line)', reason: 'a quoted field is not closed' }
    }
    if (fields.length !== names.length) {
      const reason = `expected ${names.length} fields as in the header, got ${fields.length}`
      return { ok: false, field: '(line)', reason }
    }
    const row = Object.fromEntries(names.map((name, i) => [name, fields[i] ?? '']))
    return csvEvent(row, importId(line, text), identity)
  }
}

/**
 * The mapper of a JSONL file: each line one Segment message, given a messageId derived from the
 * line when it has none (the api's own fallback would merge identical lines into one).
 * @example jsonlMapper(1, '{"type":"track","event":"Product Viewed","userId":"u1"}')
 */
export function jsonlMapper(line: number, text: string): Made {
  let message: unknown
  try {
    message = JSON.parse(text)
  } catch (err) {
    return { ok: false, field: '(line)', reason: `not JSON: ${(err as Error).message}` }
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return { ok: false, field: '(line)', reason: 'expected a JSON object: one Segment message' }
  }
  const event = message as Record<string, unknown>
  const given = typeof event.messageId === 'number' ? String(event.messageId) : event.messageId
  const id = typeof given === 'string' && given !== '' ? given : importId(line, text)
  return { ok: true, event: { ...event, messageId: id } }
}

/**
 * A field path the api reported, named as the file names it: `events[3].props.productId` of a
 * CSV import is its `item_id`; JSONL paths keep the native names, after the message's index.
 * @example reportedField('csv', 'events[3].props.productId') // 'item_id'
 */
export function reportedField(format: ImportFormat, path: string): string {
  const field = path.replace(/^(events|batch)\[\d+\]\.?/, '') || '(line)'
  return format === 'csv' ? csvField(field) : field
}

function csvField(field: string): string {
  if (/^(userId|anonymousId)$/.test(field)) {
    return 'user_id'
  }
  const prop = /^props\.(?:properties\.|products\[0\]\.)?(productId|category)$/.exec(field)
  return prop ? (prop[1] === 'productId' ? 'item_id' : 'category_id') : field
}

/** One line read from the file, and the byte offset just past it. */
export type Line = { text: string; end: number; tooLong: boolean }

/**
 * Streams a file's lines from byte `start`, holding at most one line (cut at `maxBytes`).
 * @example for await (const line of readLines('events.csv', 0)) console.log(line.text)
 */
export async function* readLines(
  file: string,
  start: number,
  maxBytes = MAX_LINE_BYTES,
): AsyncGenerator<Line> {
  let parts: Buffer[] = []
  let size = 0
  let tooLong = false
  let at = start
  let first = start === 0
  const take = (piece: Buffer) => {
    if (tooLong || size + piece.length > maxBytes) {
      tooLong = true
      parts = []
      return
    }
    parts.push(piece)
    size += piece.length
  }
  const line = (end: number): Line => {
    const text = tooLong ? '' : Buffer.concat(parts, size).toString('utf8')
    const bare = (first ? text.replace(/^\uFEFF/, '') : text).replace(/\r$/, '')
    first = false
    parts = []
    size = 0
    const done = { text: bare, end, tooLong }
    tooLong = false
    return done
  }
  for await (const chunk of createReadStream(file, {
    start,
    highWaterMark: 64 * 1024,
  }) as AsyncIterable<Buffer>) {
    let from = 0
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, from)) {
      take(chunk.subarray(from, nl))
      yield line(at + nl + 1)
      from = nl + 1
    }
    take(chunk.subarray(from))
    at += chunk.length
  }
  if (size > 0 || tooLong) {
    yield line(at)
  }
}
