/**
 * @module A tiny OTLP/HTTP trace receiver for tests: a loopback server that accepts the JSON
 * the exporter sends to POST /v1/traces and keeps every span; closed when the test ends.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { onTestFinished } from 'vitest'

type AnyValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean }
type KeyValue = { key: string; value: AnyValue }

/** One received span, flattened: ids in hex, attributes as plain values, its service. */
export type ReceivedSpan = {
  service: string | undefined
  name: string
  kind: number
  traceId: string
  spanId: string
  parentSpanId: string | undefined
  attributes: Record<string, string | number | boolean | undefined>
  links: { traceId: string; spanId: string }[]
  status: { code?: number; message?: string }
}

type ExportRequest = {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] }
    scopeSpans?: {
      spans?: {
        name: string
        kind: number
        traceId: string
        spanId: string
        parentSpanId?: string
        attributes?: KeyValue[]
        links?: { traceId: string; spanId: string }[]
        status?: { code?: number; message?: string }
      }[]
    }[]
  }[]
}

function plain(value: AnyValue): string | number | boolean | undefined {
  if (value.intValue !== undefined) {
    return Number(value.intValue)
  }
  return value.stringValue ?? value.boolValue
}

function attributesOf(list: KeyValue[] | undefined): ReceivedSpan['attributes'] {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, plain(kv.value)]))
}

/** OTLP span kinds (the enum in the OTLP proto, as the JSON encoding sends them). */
export const OTLP_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const

/**
 * @example const otlp = await otlpReceiver(); startTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url }, 'all')
 */
export async function otlpReceiver(): Promise<{
  url: string
  spans: ReceivedSpan[]
  /** Content types of the export requests received, to show they were JSON. */
  contentTypes: string[]
}> {
  const spans: ReceivedSpan[] = []
  const contentTypes: string[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end()
        return
      }
      contentTypes.push(req.headers['content-type'] ?? '')
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportRequest
      for (const resourceSpans of body.resourceSpans ?? []) {
        const service = attributesOf(resourceSpans.resource?.attributes)['service.name']
        for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
          for (const span of scopeSpans.spans ?? []) {
            spans.push({
              service: typeof service === 'string' ? service : undefined,
              name: span.name,
              kind: span.kind,
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId || undefined,
              attributes: attributesOf(span.attributes),
              links: (span.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
              status: span.status ?? {},
            })
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, spans, contentTypes }
}
