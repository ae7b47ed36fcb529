/**
 * @module Prometheus metrics. One registry per app instance (not prom-client's global one), so
 * tests can build many apps in one process without "metric already registered" clashes.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

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
    offerDecisions: new Counter({
      name: 'nudge_offer_decisions_total',
      help: 'Offer decisions on events with candidate rules, by outcome: offer, holdout, none, scheduled, cancelled.',
      labelNames: ['decision'] as const,
      registers: [registry],
    }),
    eventsProcessed: new Counter({
      name: 'nudge_worker_events_total',
      help: 'Events in the jobs the workers processed (applied = new to their profile).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    liveConnections: new Gauge({
      name: 'nudge_live_connections',
      help: 'Open WebSocket connections on this gateway process.',
      registers: [registry],
    }),
    liveFrames: new Counter({
      name: 'nudge_live_frames_total',
      help: 'WebSocket frames by direction (in, out) and frame type.',
      labelNames: ['direction', 'type'] as const,
      registers: [registry],
    }),
    liveDrops: new Counter({
      name: 'nudge_live_drops_total',
      help: 'Refused upgrades, closed connections and dropped frames, by reason.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    livePushSeconds: new Histogram({
      name: 'nudge_live_push_seconds',
      help: 'From offer.decidedAt (workers) to the offer frame handed to the socket.',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
      registers: [registry],
    }),
  }
}
