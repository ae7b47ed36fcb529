/**
 * @module The live socket (`nudge.v1`, streams/live.ts): offers pushed by the gateway, acks
 * sent back. One socket per page, authenticated by an identity token in the URL; `auth` moves
 * it to another profile (after identify or reset) without reconnecting.
 *
 * Reconnects follow the gateway's close codes: 1001 (gateway going away), 1006 (refused or
 * dropped) and 4000–4099 (transient) → again after `random(0, min(30 s, 1 s × 2^n))`;
 * 4100 (token invalid) → a new token first; 4101–4199 (site gone, protocol broken) → stop.
 * Three failed connects in a row without a `hello` also fetch a new token (a refused upgrade
 * is only a 1006 to the browser). The id of the last offer received is kept in localStorage
 * and sent as `last` (URL) and `resume`, so offers decided while the page was away arrive once.
 */
import type { Offer, OfferOutcome } from './render-offer'
import { ls } from './storage'

/** Copied from streams/live.ts (the SDK imports nothing from the server): keep in step. */
export const LIVE = {
  subprotocol: 'nudge.v1',
  path: '/v1/live',
  tokenInvalid: 4100,
  /** Codes from here up to 4199 mean "do not reconnect as you are". */
  terminalFrom: 4100,
  terminalTo: 4199,
} as const

const LAST = 'nudge_last_offer'
const MAX_DELAY_MS = 30_000
const BASE_DELAY_MS = 1_000

export type Live = {
  /** Moves the socket to the profile of a new token (or opens it with that token). */
  auth(token: string): void
  /** Reports what the shopper did with an offer (sent now, or on the next connect). */
  ack(id: string, outcome: OfferOutcome): void
  stop(): void
}

/**
 * @example const live = startLive({ host, token, refresh, onOffer, log })
 */
export function startLive(opts: {
  host: string
  token: string
  /** A fresh token for the current identity, when the old one was refused. */
  refresh(): Promise<string | undefined>
  onOffer(offer: Offer): void
  log(message: string, detail?: unknown): void
}): Live {
  let token = opts.token
  let ws: WebSocket | undefined
  let attempt = 0
  let failures = 0
  let stopped = false
  let timer: ReturnType<typeof setTimeout> | undefined
  const pending: string[] = []

  const send = (frame: object) => {
    const text = JSON.stringify(frame)
    if (ws?.readyState === WebSocket.OPEN) {
      ws.send(text)
    } else if (pending.length < 50) {
      pending.push(text)
    }
  }

  const connect = () => {
    if (stopped) {
      return
    }
    const last = ls.get(LAST)
    const url = new URL(LIVE.path, opts.host)
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    url.searchParams.set('token', token)
    if (last) {
      url.searchParams.set('last', last)
    }
    let hello = false
    try {
      ws = new WebSocket(url.toString(), LIVE.subprotocol)
    } catch (err) {
      opts.log('live socket failed', err)
      return retry()
    }
    const socket = ws
    socket.onmessage = (message) => {
      let frame: { type?: string; offer?: Offer; resume?: { mode?: string }; message?: string }
      try {
        frame = JSON.parse(String(message.data))
      } catch {
        return
      }
      if (frame.type === 'hello') {
        hello = true
        attempt = 0
        failures = 0
        if (last && frame.resume?.mode !== 'after') {
          socket.send(JSON.stringify({ type: 'resume', last }))
        }
        for (const text of pending.splice(0)) {
          socket.send(text)
        }
      } else if (frame.type === 'offer' && frame.offer) {
        ls.set(LAST, frame.offer.id)
        opts.onOffer(frame.offer)
      } else if (frame.type === 'error') {
        opts.log(`live: ${frame.message ?? 'error frame'}`)
      }
    }
    socket.onclose = (event) => {
      if (ws !== socket) {
        return
      }
      ws = undefined
      if (event.code >= LIVE.terminalFrom && event.code <= LIVE.terminalTo) {
        if (event.code === LIVE.tokenInvalid) {
          return renew()
        }
        opts.log(`live socket closed for good: ${event.code} ${event.reason}`)
        return
      }
      failures = hello ? 0 : failures + 1
      if (failures >= 3) {
        failures = 0
        return renew()
      }
      retry()
    }
  }

  const retry = () => {
    if (stopped || timer !== undefined) {
      return
    }
    attempt += 1
    const wait = Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt)
    timer = setTimeout(() => {
      timer = undefined
      connect()
    }, wait)
  }

  const renew = () => {
    opts.refresh().then((fresh) => {
      if (fresh) {
        token = fresh
      }
      retry()
    })
  }

  connect()
  return {
    auth(next) {
      token = next
      // Not open yet: the next connect carries the new token in its URL anyway.
      if (ws?.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify({ type: 'auth', token: next }))
      }
    },
    ack(id, outcome) {
      send({ type: 'ack', id, outcome })
    },
    stop() {
      stopped = true
      clearTimeout(timer)
      ws?.close(1000)
    },
  }
}
