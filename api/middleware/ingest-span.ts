/**
 * @module One server span per ingest request (runtime/telemetry.ts; nothing with tracing off).
 * It continues the caller's trace when the request carries a W3C `traceparent` header; the
 * ingest pipeline adds the site and the event counts, and stamps the span's traceparent on each
 * accepted event that has none, so the workers continue the trace.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import type { MiddlewareHandler } from 'hono'
import { ATTR, inSpan, tracingEnabled } from '../../runtime/telemetry'
import type { HonoEnv } from '../context'

/** @example app.post('/v1/events', ingestSpan, handler) */
export const ingestSpan: MiddlewareHandler<HonoEnv> = (c, next) => {
  if (!tracingEnabled()) {
    return next()
  }
  const route = c.req.routePath
  return inSpan(
    `POST ${route}`,
    {
      kind: SpanKind.SERVER,
      attributes: { [ATTR.httpMethod]: 'POST', [ATTR.httpRoute]: route },
      parent: { traceparent: c.req.header('traceparent'), tracestate: c.req.header('tracestate') },
    },
    async (span) => {
      await next()
      // Hono turns a throw into the error handler's answer before it gets here.
      span.setAttribute(ATTR.httpStatus, c.res.status)
      if (c.res.status >= 500) {
        span.setStatus({ code: SpanStatusCode.ERROR })
      }
    },
  )
}
