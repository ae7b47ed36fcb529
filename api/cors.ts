/**
 * @module CORS preflight for the public ingest paths. A preflight carries no write key, so it
 * cannot be checked against a site: it is answered for any origin, and the real request is
 * then checked against the site's allowed origins (ingest.ts `authorize`), which is where
 * events are refused.
 */
import type { MiddlewareHandler } from 'hono'
import type { HonoEnv } from './context'

/** Headers the Segment, RudderStack and Nudge browser clients send. */
const ALLOWED_HEADERS = [
  'Content-Type',
  'Content-Encoding',
  'Authorization',
  'X-Retry-Count',
  'AnonymousId',
  'SentAt',
  'Traceparent',
]

export const preflight: MiddlewareHandler<HonoEnv> = async (c, next) => {
  const origin = c.req.header('origin')
  if (c.req.method !== 'OPTIONS' || origin === undefined) {
    return next()
  }
  // RudderStack's SDK adds Rsa-Retry-Attempt and friends; allow that family by name.
  const requested = (c.req.header('access-control-request-headers') ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => /^rsa-retry-/i.test(h))
  return c.body(null, 204, {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers': [...ALLOWED_HEADERS, ...requested].join(', '),
    'Access-Control-Max-Age': '600',
    Vary: 'Origin, Access-Control-Request-Headers',
  })
}
