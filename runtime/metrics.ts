/**
 * @module Prometheus metrics. One registry per app instance (not prom-client's global one), so
 * tests can build many apps in one process without "metric already registered" clashes.
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'

/** Every metric Nudge exports, created on one registry. */
export type Metrics = ReturnType<typeof createMetrics>

/**
 * Creates the registry and the metrics on it. `defaults` adds the process metrics (CPU, memory,
 * event-loop lag); leave it off in tests.
 * @example const metrics = createMetrics({ defaults: true })
 */
export function createMetrics(opts: { defaults: boolean }) {
  const registry = new Registry()
  if (opts.defaults) {
    collectDefaultMetrics({ register: registry, prefix: 'nudge_' })
  }
  return {
    registry,
    ingestEvents: new Counter({
      name: 'nudge_ingest_events_total',
      help: 'Events received by the api, by outcome: accepted, rejected (invalid) or duplicate (id already seen).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'nudge_http_requests_total',
      help: 'HTTP requests by route pattern and status.',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    appendSeconds: new Histogram({
      name: 'nudge_ingest_append_seconds',
      help: 'Time to append one request worth of events to the Redis event log (one round trip).',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
  }
}
