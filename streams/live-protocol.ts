/**
 * @module The constants of the live protocol `nudge.v1` — subprotocol, path, close codes, limits —
 * with no imports, so the browser SDK and other clients can bundle them without zod. The frame
 * schemas are in live.ts.
 */

/** The one subprotocol a client must offer (Sec-WebSocket-Protocol); others get 400. */
export const LIVE_SUBPROTOCOL = 'nudge.v1'

/** The upgrade path; the token rides in `?token=` since browsers cannot set headers here. */
export const LIVE_PATH = '/v1/live'

export const LIVE_LIMITS = {
  /** Largest client frame (ws maxPayload); an `auth` frame with a 2 KB token fits. */
  maxFrameBytes: 4096,
  /**
   * Offer ids a connection remembers having sent, so it never sends one twice. Replays come
   * only from the inbox (INBOX.maxLength = 20), so remembering more than that suffices.
   */
  sentMemory: 64,
  /** Acks a connection may send per heartbeat interval (an inbox holds 20 offers × 3 outcomes). */
  acksPerHeartbeat: 120,
} as const

/**
 * Close codes. 4000–4099: a transient condition, reconnect with backoff and jitter (resume from
 * the last offer id). 4100–4199: do not reconnect as you are (get a new token, or stop).
 * 1001: this gateway is going away (deploy, scale-in): reconnect with jitter, elsewhere.
 */
export const CLOSE = {
  goingAway: 1001,
  /** The client read too slowly: its send buffer passed NUDGE_LIVE_SEND_BUFFER. */
  slowConsumer: 4000,
  /** The gateway lost Redis or hit an internal error. */
  unavailable: 4001,
  /** The token expired or is no longer valid: fetch a new one, then reconnect. */
  tokenInvalid: 4100,
  /** The site no longer exists or was disabled: stop. */
  siteGone: 4101,
  /** The client broke the protocol (e.g. a flood of invalid frames): stop, fix the client. */
  protocolViolation: 4102,
} as const

/** True when a client should reconnect after this close code. */
export function shouldReconnect(code: number): boolean {
  return code < 4100 || code >= 4200
}
