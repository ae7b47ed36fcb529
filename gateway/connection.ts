/**
 * @module One client socket: its identity, the offers it was sent, and the bounded send path.
 *
 * Guarantees: an offer id is sent at most once per connection (the last
 * LIVE_LIMITS.sentMemory ids are remembered, more than an inbox holds); an expired offer is
 * never sent; a socket whose unsent bytes would pass `sendBufferBytes` is closed with
 * CLOSE.slowConsumer instead of buffering more, and destroyed 2 s later if the peer does not
 * even take the close frame.
 *
 * A class, not a factory of closures, because idle connections are the gateway's memory: run
 * through tsx (esbuild keepNames), every closure made per connection costs ~300 bytes, methods
 * on a prototype nothing. For the same reason `sent` and `pending` are made on first use.
 */
import type { WebSocket } from 'ws'
import { CLOSE, LIVE_LIMITS, type ServerFrame } from '../streams/live'
import type { Identity } from '../streams/live-token'
import type { Offer } from '../streams/offers'

/** Shared by every connection of one gateway. */
export type ConnectionHooks = {
  sendBufferBytes: number
  onSent(type: ServerFrame['type']): void
  onSlow(): void
}

export class Connection {
  readonly session: string
  readonly ws: WebSocket
  readonly ip: string
  identity: Identity
  /** The profile whose channel this connection holds a subscription to. */
  subscribed: string
  /** False between a ping and its pong (heartbeat). */
  alive = true
  /** Set while the inbox is being replayed: live offers wait in `pending` meanwhile. */
  catchingUp = false
  pending: Offer[] | undefined
  /** Invalid frames received; too many closes the socket (CLOSE.protocolViolation). */
  badFrames = 0
  /** Acks received since the last heartbeat (LIVE_LIMITS.acksPerHeartbeat). */
  acks = 0
  /** Id of the last offer sent, the resume point if the socket must be caught up again. */
  lastSent: string | undefined
  /** The catch-up / auth step running now; the next one waits for it. */
  work: Promise<void> | undefined
  private sent: Set<string> | undefined
  private dropped = false
  private readonly hooks: ConnectionHooks

  constructor(
    ws: WebSocket,
    init: { session: string; ip: string; identity: Identity },
    hooks: ConnectionHooks,
  ) {
    this.ws = ws
    this.session = init.session
    this.ip = init.ip
    this.identity = init.identity
    this.subscribed = init.identity.profileKey
    this.hooks = hooks
  }

  hasSent(offerId: string): boolean {
    return this.sent?.has(offerId) === true
  }

  /** Sends an offer once; says why when it did not (sent before, expired, socket dropped). */
  sendOffer(offer: Offer, now = Date.now()): 'sent' | 'duplicate' | 'expired' | 'dropped' {
    if (this.hasSent(offer.id)) {
      return 'duplicate'
    }
    if (offer.expiresAt <= now) {
      return 'expired'
    }
    if (!this.write(JSON.stringify({ type: 'offer', offer }), 'offer')) {
      return 'dropped'
    }
    this.sent ??= new Set()
    this.sent.add(offer.id)
    if (this.sent.size > LIVE_LIMITS.sentMemory) {
      const oldest = this.sent.values().next()
      if (!oldest.done) {
        this.sent.delete(oldest.value)
      }
    }
    this.lastSent = offer.id
    return 'sent'
  }

  /** Sends a non-offer frame (hello, error), within the same buffer bound. */
  sendFrame(frame: ServerFrame): boolean {
    return this.write(JSON.stringify(frame), frame.type)
  }

  close(code: number, reason: string): void {
    const ws = this.ws
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) {
      ws.close(code, reason)
    }
  }

  private write(text: string, type: ServerFrame['type']): boolean {
    const ws = this.ws
    if (this.dropped || ws.readyState !== ws.OPEN) {
      return false
    }
    if (ws.bufferedAmount + Buffer.byteLength(text) > this.hooks.sendBufferBytes) {
      this.dropped = true
      this.hooks.onSlow()
      this.close(CLOSE.slowConsumer, 'slow consumer: send buffer full')
      setTimeout(terminate, 2_000, ws).unref()
      return false
    }
    ws.send(text)
    this.hooks.onSent(type)
    return true
  }
}

function terminate(ws: WebSocket): void {
  ws.terminate()
}
