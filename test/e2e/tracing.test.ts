/**
 * OpenTelemetry traces: an ingest request's span continues the caller's trace, its events carry
 * the request's trace context through the log, and the workers' job span continues it; with no
 * endpoint nothing is recorded, exported or stamped.
 */
import { randomBytes } from 'node:crypto'
import { trace } from '@opentelemetry/api'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createLogger } from '../../runtime/logger'
import { startTelemetry, tracingEnabled } from '../../runtime/telemetry'
import { createKeys } from '../../streams/keys'
import { partitionOf, profileKey } from '../../streams/partition'
import { basic, productViewed, type TestApi, testApi, testWorkers } from '../harness'
import { readLog } from '../log'
import { OTLP_KIND, otlpReceiver, type ReceivedSpan } from '../otlp'
import { serveApp } from '../serve'
import { until } from '../until'

const hex = (bytes: number) => randomBytes(bytes).toString('hex')
const newTraceparent = () => `00-${hex(16)}-${hex(8)}-01`

/** An anonymousId whose profile lives in another partition than `other`'s. */
function elsewhere(t: TestApi, other: string, base: string): string {
  const partitionOfShopper = (id: string) =>
    partitionOf(profileKey(t.site.site.id, { anonymousId: id, verified: false }), 4)
  for (let i = 0; ; i++) {
    if (partitionOfShopper(`${base}-${i}`) !== partitionOfShopper(other)) {
      return `${base}-${i}`
    }
  }
}

function profileCount(t: TestApi, anonymousId: string) {
  const key = createKeys(t.prefix).profile(`${t.site.site.id}:a:${anonymousId}`)
  return () => t.redis.hget(key, 'n')
}

describe('OpenTelemetry traces', () => {
  it('exports the ingest span and a job span that continues its trace', async () => {
    const otlp = await otlpReceiver()
    const telemetry = await startTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url }, 'all')
    onTestFinished(() => telemetry.shutdown())
    expect(telemetry).toMatchObject({ enabled: true, serviceName: 'nudge' })

    const t = await testApi()
    const logLines: string[] = []
    t.services.logger = createLogger({
      level: 'debug',
      role: 'api',
      destination: { write: (line: string) => logLines.push(line) },
    })
    await testWorkers(t)
    const { url } = await serveApp(t.app)

    const shopperA = `shopper-a-${hex(4)}`
    const shopperC = elsewhere(t, shopperA, `shopper-c-${hex(4)}`)
    const incoming = newTraceparent()
    const own = newTraceparent()
    const a1 = productViewed({ anonymousId: shopperA })
    const a2 = productViewed({ anonymousId: shopperA, type: 'AddedToCart' })
    const c1 = productViewed({ anonymousId: shopperC, traceparent: own })
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { authorization: basic(t.site.writeKey), traceparent: incoming },
      body: JSON.stringify({ events: [a1, { id: 'bad-1', type: 'Nope' }, a2, c1] }),
    })
    expect(res.status, await res.clone().text()).toBe(200)

    const segmentShopper = `shopper-s-${hex(4)}`
    const segment = await fetch(`${url}/v1/batch`, {
      method: 'POST',
      headers: { authorization: basic(t.site.writeKey) },
      body: JSON.stringify({
        batch: [
          {
            type: 'track',
            event: 'Product Viewed',
            messageId: `seg-${hex(6)}`,
            anonymousId: segmentShopper,
            properties: { product_id: 'p1', category: 'Shoes', price: 10 },
          },
        ],
      }),
    })
    expect(segment.status, await segment.clone().text()).toBe(200)

    expect(await until(profileCount(t, shopperA), (n) => n === '2', 15_000)).toBe('2')
    expect(await until(profileCount(t, shopperC), (n) => n === '1', 15_000)).toBe('1')
    expect(await until(profileCount(t, segmentShopper), (n) => n === '1', 15_000)).toBe('1')
    const jobSpans = (spans: ReceivedSpan[]) => spans.filter((s) => s.name === 'process events')
    const spans = await until(
      async () => {
        await telemetry.flush()
        return [...otlp.spans]
      },
      (all) => jobSpans(all).length >= 3,
      15_000,
    )
    expect(otlp.contentTypes[0]).toContain('application/json')

    // The native request's span continues the caller's trace and counts what it kept.
    const [, incomingTraceId, incomingSpanId] = incoming.split('-')
    const apiSpan = spans.find((s) => s.name === 'POST /v1/events')
    expect(apiSpan, JSON.stringify(spans)).toBeDefined()
    if (!apiSpan) {
      return
    }
    expect(apiSpan).toMatchObject({
      service: 'nudge',
      kind: OTLP_KIND.server,
      traceId: incomingTraceId,
      parentSpanId: incomingSpanId,
      attributes: {
        'http.request.method': 'POST',
        'http.route': '/v1/events',
        'http.response.status_code': 200,
        'nudge.site.id': t.site.site.id,
        'nudge.events.accepted': 3,
        'nudge.events.rejected': 1,
        'nudge.events.duplicates': 0,
      },
    })

    // Events without a traceparent got the request span's; the one with its own kept it.
    const apiTraceparent = `00-${apiSpan.traceId}-${apiSpan.spanId}-01`
    const stored = new Map((await readLog(t.redis, t.prefix, 4)).map((e) => [e.id, e]))
    expect(stored.get(a1.id)?.traceparent).toBe(apiTraceparent)
    expect(stored.get(a2.id)?.traceparent).toBe(apiTraceparent)
    expect(stored.get(c1.id)?.traceparent).toBe(own)

    // Shopper A's job: a child of the request span, and linked to it.
    const jobA = jobSpans(spans).find((s) => s.attributes['messaging.batch.message_count'] === 2)
    expect(jobA, JSON.stringify(jobSpans(spans))).toMatchObject({
      service: 'nudge',
      kind: OTLP_KIND.consumer,
      traceId: apiSpan.traceId,
      parentSpanId: apiSpan.spanId,
      links: [{ traceId: apiSpan.traceId, spanId: apiSpan.spanId }],
      attributes: {
        'messaging.system': 'bullmq',
        'messaging.destination.name': 'events',
        'nudge.events.applied': 2,
        'nudge.partition': partitionOf(
          profileKey(t.site.site.id, { anonymousId: shopperA, verified: false }),
          4,
        ),
      },
    })
    expect(jobA?.attributes['messaging.message.id']).toMatch(/^p\d+-\d+-\d+$/)

    // Shopper C's job continues the trace the event brought itself.
    const [, ownTraceId, ownSpanId] = own.split('-')
    const jobC = jobSpans(spans).find((s) => s.traceId === ownTraceId)
    expect(jobC, JSON.stringify(jobSpans(spans))).toMatchObject({
      parentSpanId: ownSpanId,
      links: [{ traceId: ownTraceId, spanId: ownSpanId }],
      attributes: { 'messaging.batch.message_count': 1, 'nudge.events.applied': 1 },
    })

    // The Segment request starts a trace of its own, which its job continues.
    const segmentSpan = spans.find((s) => s.name === 'POST /v1/batch')
    expect(segmentSpan).toMatchObject({
      parentSpanId: undefined,
      attributes: { 'nudge.events.accepted': 1, 'nudge.events.rejected': 0 },
    })
    expect(jobSpans(spans).some((s) => s.parentSpanId === segmentSpan?.spanId)).toBe(true)

    // The api's log line about the batch carries the request's trace id and the event ids.
    const ingested = logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === 'ingested' && line.traceId === apiSpan.traceId)
    expect(ingested, logLines.join('')).toMatchObject({
      spanId: apiSpan.spanId,
      eventIds: [a1.id, a2.id, c1.id],
    })
  })

  it('records, exports and stamps nothing without an endpoint', async () => {
    const otlp = await otlpReceiver()
    // The receiver exists, but nothing points tracing at it.
    const telemetry = await startTelemetry({ OTEL_SERVICE_NAME: 'shop' }, 'api')
    onTestFinished(() => telemetry.shutdown())
    expect(telemetry).toMatchObject({ enabled: false, serviceName: 'shop' })
    expect(tracingEnabled()).toBe(false)
    // No tracer provider is registered (nor left behind by the test before).
    expect(trace.getTracer('nudge').startSpan('probe').isRecording()).toBe(false)

    const t = await testApi()
    const logLines: string[] = []
    t.services.logger = createLogger({
      level: 'debug',
      role: 'api',
      destination: { write: (line: string) => logLines.push(line) },
    })
    await testWorkers(t)
    const { url } = await serveApp(t.app)
    const shopper = `shopper-off-${hex(4)}`
    const own = newTraceparent()
    const plain = productViewed({ anonymousId: shopper })
    const traced = productViewed({ anonymousId: shopper, traceparent: own })
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { authorization: basic(t.site.writeKey), traceparent: newTraceparent() },
      body: JSON.stringify({ events: [plain, traced] }),
    })
    expect(res.status, await res.clone().text()).toBe(200)
    expect(await until(profileCount(t, shopper), (n) => n === '2', 15_000)).toBe('2')

    const stored = new Map((await readLog(t.redis, t.prefix, 4)).map((e) => [e.id, e]))
    expect(stored.get(plain.id)).toBeDefined()
    expect(stored.get(plain.id)).not.toHaveProperty('traceparent')
    expect(stored.get(traced.id)?.traceparent).toBe(own)
    const ingested = logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === 'ingested')
    expect(ingested).toBeDefined()
    expect(ingested).not.toHaveProperty('traceId')

    await telemetry.flush()
    await new Promise((r) => setTimeout(r, 200))
    expect(otlp.spans).toEqual([])
    expect(otlp.contentTypes).toEqual([])
  })
})
