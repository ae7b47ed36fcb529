/**
 * @module Sending one chunk of events to `POST /v1/events` and reading the answer.
 *
 * The body is JSON sent as `text/plain` with the write key (and the identity token) inside it:
 * a CORS "simple" request, so there is no preflight round trip, and the same body works for
 * `navigator.sendBeacon`, which cannot set headers. The api parses JSON whatever the type.
 *
 * Answers (README "Ingest API"): 200 → every event of the chunk is done (accepted, duplicate, or
 * rejected for a reason a retry cannot fix); 429 / 503 / other 5xx / network failure → retry,
 * no sooner than Retry-After; any other 4xx → the chunk is dropped (a retry would fail again).
 */

/** Keepalive requests of one page share a 64 KB budget (Fetch spec), so chunks stay below it. */
export const CHUNK_BYTES = 60 * 1024
/** The api takes at most 500 events per request; smaller chunks retry cheaper. */
export const CHUNK_EVENTS = 100

export type Outcome =
  | {
      kind: 'done'
      rejected: { id?: string; issues?: unknown }[]
      /** The api's X-Nudge-Token-Error: the token sent was expired or invalid. */
      tokenError?: string
    }
  | { kind: 'retry'; afterMs?: number; status?: number }
  | { kind: 'drop'; status: number; message: string }

export type Body = { writeKey: string; token?: string; events: { id: string }[] }

const utf8 = new TextEncoder()

/** UTF-8 size of a string: what the keepalive budget and the api's limits count. */
export function byteLength(text: string): number {
  // ASCII, which event JSON mostly is, has one byte a character: a scan instead of a copy.
  return /[\u0080-\uffff]/.test(text) ? utf8.encode(text).length : text.length
}

/**
 * Splits events into parts whose request body stays under CHUNK_BYTES (counting `overhead`
 * bytes for the rest of the body) and CHUNK_EVENTS, in order. An event too large for any part
 * goes alone; the api rejects it with a reason (32 KB per event).
 * @example chunks(events, 200).map((part) => JSON.stringify({ writeKey, events: part }))
 */
export function chunks<E>(events: readonly E[], overhead: number): E[][] {
  // Most batches fit one request: then one size computation for all, not one per event.
  if (
    events.length > 0 &&
    events.length <= CHUNK_EVENTS &&
    overhead + byteLength(JSON.stringify(events)) <= CHUNK_BYTES
  ) {
    return [events.slice()]
  }
  const out: E[][] = []
  let part: E[] = []
  let bytes = overhead
  for (const e of events) {
    const size = byteLength(JSON.stringify(e)) + 1
    if (part.length > 0 && (bytes + size > CHUNK_BYTES || part.length >= CHUNK_EVENTS)) {
      out.push(part)
      part = []
      bytes = overhead
    }
    part.push(e)
    bytes += size
  }
  if (part.length > 0) {
    out.push(part)
  }
  return out
}

function retryAfterMs(res: Response): number | undefined {
  const raw = res.headers.get('retry-after')
  if (!raw) {
    return undefined
  }
  const seconds = Number(raw)
  if (Number.isFinite(seconds)) {
    return Math.max(0, seconds * 1000)
  }
  const at = Date.parse(raw)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

/**
 * One request; never throws.
 * @example const outcome = await post(`${host}/v1/events`, json, false)
 */
export async function post(url: string, json: string, keepalive: boolean): Promise<Outcome> {
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      body: json,
      headers: { 'Content-Type': 'text/plain' },
      credentials: 'include',
      keepalive,
    })
  } catch {
    return { kind: 'retry' }
  }
  if (res.ok) {
    const tokenError = res.headers.get('x-nudge-token-error') ?? undefined
    try {
      const answer = (await res.json()) as { rejected?: { id?: string; issues?: unknown }[] }
      return { kind: 'done', rejected: answer.rejected ?? [], tokenError }
    } catch {
      return { kind: 'done', rejected: [], tokenError }
    }
  }
  if (res.status === 429 || res.status >= 500) {
    return { kind: 'retry', afterMs: retryAfterMs(res), status: res.status }
  }
  let message = ''
  try {
    message = ((await res.json()) as { error?: { message?: string } }).error?.message ?? ''
  } catch {
    // Not our error body (a proxy page): the status says enough.
  }
  return { kind: 'drop', status: res.status, message }
}

/**
 * Queues the body with the browser for delivery after the page is gone; false when the
 * browser refused it (over its quota), so the caller keeps the events for the next visit.
 */
export function beacon(url: string, json: string): boolean {
  try {
    return navigator.sendBeacon(url, new Blob([json], { type: 'text/plain' }))
  } catch {
    return false
  }
}
