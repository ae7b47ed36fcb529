/**
 * @module The checks an upgrade to `/v1/live` passes before the WebSocket handshake completes,
 * in this order: path (404), subprotocol `nudge.v1` (400), token (401), site (403), Origin
 * against the site's allow-list (403), connection limits per client IP and per profile (429).
 * A refusal is an HTTP answer on the raw socket, so nothing is ever sent to a socket that
 * could not prove who it is.
 *
 * Browsers cannot read the status of a refused upgrade (they see close code 1006), so the SDK
 * fetches a fresh token after repeated failures. Requests without an Origin header (native
 * apps, servers) skip the origin check: the token is their credential.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { originAllowed } from '../drizzle/origins'
import { LIVE_PATH, LIVE_SUBPROTOCOL } from '../streams/live'
import { type Identity, verifyIdentityToken } from '../streams/live-token'
import type { LookupSite } from './sites'

export type UpgradeRefusal = {
  status: 400 | 401 | 403 | 404 | 429 | 503
  reason: string
  message: string
}

export type UpgradeChecks = {
  tokenKey: Uint8Array
  siteOf: LookupSite
  trustProxy: boolean
  /** Current counts, to enforce NUDGE_LIVE_MAX_PER_IP / _PER_PROFILE. */
  connectionsFrom(ip: string): number
  connectionsOf(profileKey: string): number
  maxPerIp: number
  maxPerProfile: number
}

/** The client IP: the socket's peer, or the first X-Forwarded-For hop behind a trusted proxy. */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for']
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim()
    if (first) {
      return first
    }
  }
  return req.socket.remoteAddress ?? 'unknown'
}

/**
 * Runs every check; the identity to subscribe on success, else the refusal to answer with.
 * @example const checked = await checkUpgrade(req, checks); if ('status' in checked) refuse(socket, checked)
 */
export async function checkUpgrade(
  req: IncomingMessage,
  checks: UpgradeChecks,
): Promise<{ identity: Identity; ip: string; last: string | undefined } | UpgradeRefusal> {
  const url = new URL(req.url ?? '/', 'http://gateway')
  if (url.pathname !== LIVE_PATH) {
    return {
      status: 404,
      reason: 'path',
      message: `No WebSocket endpoint at ${url.pathname}; use ${LIVE_PATH}.`,
    }
  }
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim())
  if (!offered.includes(LIVE_SUBPROTOCOL)) {
    return {
      status: 400,
      reason: 'subprotocol',
      message: `Offer the WebSocket subprotocol "${LIVE_SUBPROTOCOL}" (new WebSocket(url, "${LIVE_SUBPROTOCOL}")).`,
    }
  }
  const result = await verifyIdentityToken(checks.tokenKey, url.searchParams.get('token'))
  if ('reason' in result) {
    return {
      status: 401,
      reason: `token_${result.reason}`,
      message:
        result.reason === 'missing'
          ? 'No token: connect to /v1/live?token=<token from POST /v1/identity>.'
          : `The token is ${result.reason}; get a new one from POST /v1/identity.`,
    }
  }
  let site: Awaited<ReturnType<LookupSite>>
  try {
    site = await checks.siteOf(result.siteId)
  } catch {
    return {
      status: 503,
      reason: 'site_lookup',
      message: 'Site lookup is unavailable; retry shortly.',
    }
  }
  if (!site) {
    return { status: 403, reason: 'site_gone', message: `Site ${result.siteId} no longer exists.` }
  }
  const origin = req.headers.origin
  if (origin !== undefined && !originAllowed(origin, site.allowedOrigins)) {
    return {
      status: 403,
      reason: 'origin',
      message: `Origin ${origin} is not allowed for this site. Add it with: npx nudge sites add-origin ${site.id} ${origin}`,
    }
  }
  const ip = clientIp(req, checks.trustProxy)
  if (checks.connectionsFrom(ip) >= checks.maxPerIp) {
    return {
      status: 429,
      reason: 'limit_ip',
      message: `This client address holds ${checks.maxPerIp} connections already (NUDGE_LIVE_MAX_PER_IP).`,
    }
  }
  if (checks.connectionsOf(result.profileKey) >= checks.maxPerProfile) {
    return {
      status: 429,
      reason: 'limit_profile',
      message: `This shopper holds ${checks.maxPerProfile} connections already (NUDGE_LIVE_MAX_PER_PROFILE); close a tab.`,
    }
  }
  const last = url.searchParams.get('last') ?? undefined
  return { identity: result, ip, last: last && last.length <= 128 ? last : undefined }
}

const STATUS_TEXT: Record<UpgradeRefusal['status'], string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
}

/** Answers a refused upgrade on the raw socket with the api's error body shape, then closes it. */
export function refuseUpgrade(socket: Duplex, refusal: UpgradeRefusal): void {
  const body = JSON.stringify({ error: { code: refusal.reason, message: refusal.message } })
  const retry = refusal.status === 429 || refusal.status === 503 ? 'Retry-After: 5\r\n' : ''
  socket.once('finish', () => socket.destroy())
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_TEXT[refusal.status]}\r\nConnection: close\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${retry}\r\n${body}`,
  )
}
