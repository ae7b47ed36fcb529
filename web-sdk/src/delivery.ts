/**
 * @module Delivery: from the persistent queue to the api, in batches, with retries, and on page
 * hide. An event leaves the queue only when the api answered for it (200: accepted, duplicate
 * or rejected; another 4xx: dropped, since a retry cannot succeed), so delivery is at least
 * once, and exactly once in the event log because the api dedups by event id, which is made
 * once per event and kept across retries and reloads.
 *
 * Batches go when `flushAt` events wait or `flushInterval` after the first one. Failures back
 * off exponentially with full jitter (`random(0, min(maxRetryDelay, 500 ms × 2^attempt))`),
 * never sooner than the server's Retry-After, and retry at once when the browser comes back
 * online. On page hide what is left goes with `fetch(keepalive)` within the 64 KB keepalive
 * budget and `sendBeacon` beyond it; whatever the browser refuses stays queued for the next
 * page of the store (queue.ts adopts it).
 */
import type { Queue, QueuedEvent } from './queue'
import { beacon, byteLength, CHUNK_BYTES, chunks, type Outcome, post } from './transport'

export type DeliveryOptions = {
  url: string
  queue: Queue
  /** The body around the events: write key and, once identified, the token. */
  envelope(): { writeKey: string; token?: string }
  flushAt: number
  flushInterval: number
  maxRetryDelay: number
  /** The api refused the batch's token (expired): the events were kept, unproven. */
  onTokenError(reason: string): void
  log(message: string, detail?: unknown): void
}

export type Delivery = {
  /** Queues one event and schedules a flush. */
  add(event: QueuedEvent): void
  /** Sends what is queued now, unless a backoff is running. */
  flush(): void
  /** Page hidden or going away: hand everything to keepalive / beacon requests. */
  hide(): void
  /** Page visible again: events handed to beacons (unanswered) become sendable again. */
  show(): void
  /** The browser is back online: end the backoff and send now. */
  retryNow(): void
}

const BASE_DELAY_MS = 500

/**
 * @example const delivery = createDelivery({ url: `${host}/v1/events`, queue, … }); delivery.add(event)
 */
export function createDelivery(opts: DeliveryOptions): Delivery {
  const { queue, log } = opts
  /** Ids in a request that has not answered yet; never sent twice at once. */
  const inFlight = new Set<string>()
  /** Ids handed to sendBeacon, which never answers: kept queued, not resent while hidden. */
  const beaconed = new Set<string>()
  let inFlightBytes = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  let attempt = 0
  let retryAt = 0
  let sending = false
  let flushQueued = false

  const schedule = (ms: number) => {
    if (timer === undefined) {
      timer = setTimeout(() => {
        timer = undefined
        flush()
      }, ms)
    }
  }

  const body = (events: QueuedEvent[]) => JSON.stringify({ ...opts.envelope(), events })

  /** Applies an answer; true when the next chunk may go. */
  const settle = (part: QueuedEvent[], outcome: Outcome): boolean => {
    const ids = new Set(part.map((e) => e.id))
    for (const id of ids) {
      inFlight.delete(id)
    }
    if (outcome.kind === 'retry') {
      attempt += 1
      const backoff = Math.random() * Math.min(opts.maxRetryDelay, BASE_DELAY_MS * 2 ** attempt)
      const wait = Math.max(outcome.afterMs ?? 0, backoff)
      retryAt = Date.now() + wait
      log(
        `send failed (${outcome.status ?? 'network'}); retry ${attempt} in ${Math.round(wait)} ms`,
      )
      if (timer !== undefined) {
        clearTimeout(timer)
        timer = undefined
      }
      schedule(wait)
      return false
    }
    attempt = 0
    retryAt = 0
    if (outcome.kind === 'drop') {
      log(`dropped ${part.length} events: ${outcome.status} ${outcome.message}`, part)
    } else {
      if (outcome.rejected.length > 0) {
        log('events rejected by the api', outcome.rejected)
      }
      if (outcome.tokenError) {
        opts.onTokenError(outcome.tokenError)
      }
    }
    queue.remove(ids)
    return true
  }

  const pending = () => queue.events.filter((e) => !inFlight.has(e.id) && !beaconed.has(e.id))

  async function run(): Promise<void> {
    sending = true
    try {
      for (;;) {
        if (!queue.owned()) {
          return
        }
        const [part] = chunks(pending(), 200)
        if (!part) {
          return
        }
        const json = body(part)
        for (const e of part) {
          inFlight.add(e.id)
        }
        // keepalive, so a batch already on its way survives the page going away.
        const size = byteLength(json)
        inFlightBytes += size
        const outcome = await post(opts.url, json, size < CHUNK_BYTES)
        inFlightBytes -= size
        if (!settle(part, outcome)) {
          return
        }
        // What was queued meanwhile goes at once only as a full batch; fewer wait for the
        // flush interval like any other batch.
        const left = pending().length
        if (left < opts.flushAt) {
          if (left > 0) {
            schedule(opts.flushInterval)
          }
          return
        }
      }
    } finally {
      sending = false
    }
  }

  function flush(): void {
    if (sending || Date.now() < retryAt || pending().length === 0) {
      return
    }
    if (timer !== undefined) {
      clearTimeout(timer)
      timer = undefined
    }
    run().catch((err: unknown) => log('delivery failed', err))
  }

  return {
    add(event) {
      queue.push(event)
      if (flushQueued) {
        return
      }
      if (pending().length >= opts.flushAt) {
        // Sent when the task that added the events ends: a page of tiles coming into view
        // (dozens of `add` in one task) is one request, not one every `flushAt` events.
        flushQueued = true
        queueMicrotask(() => {
          flushQueued = false
          flush()
        })
      } else {
        schedule(opts.flushInterval)
      }
    },
    flush,
    hide() {
      let budget = 64 * 1024 - inFlightBytes - 1024
      const parts = chunks(pending(), 200)
      for (const part of parts) {
        const json = body(part)
        const size = byteLength(json)
        if (size <= budget) {
          budget -= size
          for (const e of part) {
            inFlight.add(e.id)
          }
          // If the page lives on (tab hidden, bfcache) the answer is applied like any other.
          post(opts.url, json, true).then((outcome) => settle(part, outcome))
        } else if (beacon(opts.url, json)) {
          for (const e of part) {
            beaconed.add(e.id)
          }
        } else {
          log(`${part.length} events left for the next page`)
          return
        }
      }
    },
    show() {
      beaconed.clear()
    },
    retryNow() {
      retryAt = 0
      flush()
    },
  }
}
