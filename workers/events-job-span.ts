/**
 * @module One consumer span per events job (runtime/telemetry.ts; nothing with tracing off).
 * A job carries many events, each with the `traceparent` of the request that brought it (the
 * api stamps it) or its client's own: the span links to every distinct one, and when there is
 * only one (a job of one entry, the usual case on a quiet log: one request's events of one
 * partition) it is also the span's parent, so a trace view shows the request and its processing together (not for replay jobs,
 * which only link).
 */
import { type Link, SpanKind } from '@opentelemetry/api'
import { ATTR, inSpan, parseTraceparent, tracingEnabled } from '../runtime/telemetry'
import { QUEUES } from '../streams/keys'

/** Links kept per span (the SDK's default limit); later ones are dropped. */
const MAX_LINKS = 128

/** What the span reads from the job; the data is not checked yet, so every field is unknown. */
type JobLike = { id?: string; data: unknown }

/**
 * Runs `run` (the events processor) inside the job's span and records how many events it
 * applied; a throw is recorded on the span and rethrown.
 * @example new Worker(QUEUES.events, (job) => inEventsJobSpan(job, () => processEvents(job.data)))
 */
export function inEventsJobSpan<T extends { events: number; applied: number }>(
  job: JobLike,
  run: () => Promise<T>,
): Promise<T> {
  if (!tracingEnabled()) {
    return run()
  }
  const data = (job.data ?? {}) as { partition?: unknown; events?: unknown; replay?: unknown }
  const events = Array.isArray(data.events) ? (data.events as unknown[]) : []
  const traceparents = new Set<string>()
  for (const event of events) {
    const traceparent = (event as { traceparent?: unknown } | null)?.traceparent
    if (typeof traceparent === 'string') {
      traceparents.add(traceparent)
    }
  }
  const links: Link[] = []
  for (const traceparent of traceparents) {
    const spanContext = parseTraceparent(traceparent)
    if (spanContext && links.length < MAX_LINKS) {
      links.push({ context: spanContext })
    }
  }
  // A replay or import rebuilds from requests that may be days old: linked, never their child.
  const only =
    traceparents.size === 1 && links.length === 1 && data.replay !== true
      ? [...traceparents][0]
      : undefined
  return inSpan(
    `process ${QUEUES.events}`,
    {
      kind: SpanKind.CONSUMER,
      parent: { traceparent: only },
      links,
      attributes: {
        [ATTR.messagingSystem]: 'bullmq',
        [ATTR.messagingDestination]: QUEUES.events,
        [ATTR.messagingOperation]: 'process',
        [ATTR.messagingMessageId]: job.id ?? '',
        [ATTR.messagingBatchCount]: events.length,
        ...(typeof data.partition === 'number' ? { [ATTR.partition]: data.partition } : {}),
      },
    },
    async (span) => {
      const result = await run()
      span.setAttribute(ATTR.applied, result.applied)
      return result
    },
  )
}
