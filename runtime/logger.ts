/**
 * @module JSON-lines logger (pino) bound to the role. A line written while a span is active
 * (an ingest request, an events job; see runtime/telemetry.ts) carries its `traceId` and
 * `spanId`; callers add `eventId` / `eventIds` where a line concerns events.
 */
import { isSpanContextValid, trace } from '@opentelemetry/api'
import { pino } from 'pino'

export type Logger = pino.Logger

/**
 * The active span's ids, for every line. With tracing off no context manager is registered, so
 * this is one lookup that finds nothing. A fresh object each call: pino merges into it.
 */
function traceFields(): { traceId?: string; spanId?: string } {
  const span = trace.getActiveSpan()
  if (span === undefined) {
    return {}
  }
  const spanContext = span.spanContext()
  if (!isSpanContextValid(spanContext)) {
    return {}
  }
  return { traceId: spanContext.traceId, spanId: spanContext.spanId }
}

/**
 * Creates the process logger. Logs go to stdout (or `destination`) as one JSON object per line.
 * @example const log = createLogger({ level: 'info', role: 'api' })
 */
export function createLogger(opts: {
  level: string
  role: string
  destination?: pino.DestinationStream
}): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level,
    base: { role: opts.role },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: traceFields,
  }
  return opts.destination ? pino(options, opts.destination) : pino(options)
}
