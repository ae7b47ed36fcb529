/**
 * @module Sending an import's batches to the ingest api: bounded retries on 429, 5xx and network
 * failures (after Retry-After, else a doubling backoff), and a batch split in halves when an api
 * with smaller limits answers 413. Resending is safe: the events' ids make each count once.
 */
import { setTimeout as delay } from 'node:timers/promises'

/** How to reach the api and how long to keep trying. */
export type SendOptions = {
  /** `<api base>/v1/events` (native events) or `<api base>/v1/batch` (Segment messages). */
  endpoint: string
  key: string
  fetch?: typeof fetch
  /** Waits before a retry; rejects when `signal` aborts. */
  wait?: (ms: number, signal?: AbortSignal) => Promise<unknown>
  /** Attempts per request before giving up (default 10). */
  maxAttempts?: number
  signal?: AbortSignal
}

/** The api refused in a way a retry cannot fix, or kept failing; the message says which. */
export class SendError extends Error {}

/** The signal aborted while waiting to retry: the batch was not acknowledged. */
export class SendInterrupted extends Error {}

const MAX_WAIT_MS = 60_000
const REQUEST_TIMEOUT_MS = 30_000

/** One request's worth of events and the line each came from. */
export type Batch = { events: string[]; lines: number[]; bytes: number }
/** The api's answer to one batch: rejections index into the batch. */
export type Answer = {
  accepted: number
  duplicates: number
  rejected: { index: number; issues: { field: string; reason: string }[] }[]
}

/**
 * Sends a batch and resolves to the api's answer; a 413 splits it in halves until it fits.
 * @example const answer = await deliver({ events: [json], lines: [2], bytes: json.length }, { endpoint, key })
 */
export async function deliver(batch: Batch, opts: SendOptions): Promise<Answer> {
  const field = opts.endpoint.endsWith('/v1/events') ? 'events' : 'batch'
  const answer = await post(`{"${field}":[${batch.events.join(',')}]}`, opts)
  if (answer !== 'too large') {
    return answer
  }
  if (batch.events.length === 1) {
    return {
      accepted: 0,
      duplicates: 0,
      rejected: [
        {
          index: 0,
          issues: [{ field: '(line)', reason: 'the api says the event is too large (413)' }],
        },
      ],
    }
  }
  const half = Math.ceil(batch.events.length / 2)
  const parts = [0, half].map((from) => ({
    events: batch.events.slice(from, from + half),
    lines: batch.lines.slice(from, from + half),
    bytes: 0,
  }))
  const [a, b] = [await deliver(parts[0] as Batch, opts), await deliver(parts[1] as Batch, opts)]
  return {
    accepted: a.accepted + b.accepted,
    duplicates: a.duplicates + b.duplicates,
    rejected: [...a.rejected, ...b.rejected.map((r) => ({ ...r, index: r.index + half }))],
  }
}

/** One request, retried up to `maxAttempts` times. */
async function post(body: string, opts: SendOptions): Promise<Answer | 'too large'> {
  const send = opts.fetch ?? fetch
  const wait = opts.wait ?? ((ms: number, signal?: AbortSignal) => delay(ms, undefined, { signal }))
  const maxAttempts = opts.maxAttempts ?? 10
  const authorization = `Basic ${Buffer.from(`${opts.key}:`).toString('base64')}`
  for (let attempt = 1; ; attempt++) {
    let problem: string
    let retryAfter: string | null = null
    try {
      const res = await send(opts.endpoint, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      })
      const json = (await res.json().catch(() => ({}))) as Answer & {
        error?: { code?: string; message?: string; rejected?: Answer['rejected'] }
      }
      if (res.status === 200) {
        return json
      }
      if (json.error?.code === 'INVALID_EVENTS') {
        return { accepted: 0, duplicates: 0, rejected: json.error.rejected ?? [] }
      }
      if (res.status === 413) {
        return 'too large'
      }
      problem = `the api answered ${res.status}${json.error?.message ? `: ${json.error.message}` : ''}`
      if (res.status !== 429 && res.status < 500) {
        throw new SendError(problem)
      }
      retryAfter = res.headers.get('retry-after')
    } catch (err) {
      if (err instanceof SendError) {
        throw err
      }
      problem = `the api did not answer: ${(err as Error).message}`
    }
    if (attempt >= maxAttempts) {
      throw new SendError(`${problem} (gave up after ${attempt} attempts)`)
    }
    try {
      await wait(retryDelay(retryAfter, attempt), opts.signal)
    } catch {
      throw new SendInterrupted(`interrupted while waiting to retry: ${problem}`)
    }
  }
}

/**
 * How long to wait before attempt `attempt + 1`: the api's Retry-After (seconds or an HTTP
 * date), else 0.5 s doubling; at most a minute either way.
 * @example retryDelay('2', 1) // 2000
 */
export function retryDelay(retryAfter: string | null, attempt: number): number {
  const seconds = retryAfter === null ? Number.NaN : Number(retryAfter)
  const at = retryAfter === null ? Number.NaN : Date.parse(retryAfter)
  const asked = Number.isFinite(seconds)
    ? seconds * 1000
    : Number.isFinite(at)
      ? at - Date.now()
      : Number.NaN
  const ms = Number.isFinite(asked) ? asked : 500 * 2 ** (attempt - 1)
  return Math.min(MAX_WAIT_MS, Math.max(0, ms))
}
