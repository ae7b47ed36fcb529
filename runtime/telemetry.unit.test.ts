import { SpanKind } from '@opentelemetry/api'
import { describe, expect, it } from 'vitest'
import { loadConfig } from './config'
import { createLogger } from './logger'
import {
  activeTraceparent,
  inSpan,
  parseTraceparent,
  serviceNameOf,
  startTelemetry,
  traceparentOf,
  tracesUrlOf,
  tracingEnabled,
} from './telemetry'

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

describe('telemetry configuration', () => {
  it('names the service after the role unless OTEL_SERVICE_NAME says otherwise', () => {
    expect(serviceNameOf('api', {})).toBe('nudge-api')
    expect(serviceNameOf('workers', {})).toBe('nudge-workers')
    expect(serviceNameOf('gateway', {})).toBe('nudge-gateway')
    expect(serviceNameOf('all', {})).toBe('nudge')
    expect(serviceNameOf('api', { OTEL_SERVICE_NAME: 'shop-nudge' })).toBe('shop-nudge')
  })

  it('sends to the traces endpoint as given, else to the base endpoint + /v1/traces', () => {
    expect(tracesUrlOf({})).toBeUndefined()
    expect(tracesUrlOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' })).toBe(
      'http://otel:4318/v1/traces',
    )
    expect(tracesUrlOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318/base/' })).toBe(
      'http://otel:4318/base/v1/traces',
    )
    expect(
      tracesUrlOf({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/otlp/traces',
      }),
    ).toBe('http://tempo:4318/otlp/traces')
  })

  it('parses the OTEL_* variables and names a bad endpoint', () => {
    const config = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318',
      OTEL_SERVICE_NAME: 'shop',
      OTEL_SDK_DISABLED: 'true',
    })
    expect(config).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318',
      OTEL_SERVICE_NAME: 'shop',
      OTEL_SDK_DISABLED: true,
    })
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'otel:4318' })).toThrow(
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: expected an http(s) URL',
    )
  })

  it('stays off without an endpoint, and with OTEL_SDK_DISABLED', async () => {
    for (const config of [
      {},
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SDK_DISABLED: true },
    ]) {
      const telemetry = await startTelemetry(config, 'api')
      expect(telemetry.enabled).toBe(false)
      expect(tracingEnabled()).toBe(false)
      await telemetry.shutdown()
    }
  })
})

describe('trace context helpers', () => {
  it('reads a W3C traceparent and writes it back', () => {
    const spanContext = parseTraceparent(TRACEPARENT)
    expect(spanContext).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
    })
    expect(spanContext && traceparentOf(spanContext)).toBe(TRACEPARENT)
  })

  it('refuses malformed, all-zero and version-ff traceparents', () => {
    for (const bad of [
      '',
      'garbage',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
    ]) {
      expect(parseTraceparent(bad), bad).toBeUndefined()
    }
  })

  it('with tracing off, runs the work in a span that records nothing', async () => {
    const result = await inSpan('work', { kind: SpanKind.INTERNAL }, async (span) => {
      expect(span.isRecording()).toBe(false)
      expect(activeTraceparent()).toBeUndefined()
      return 42
    })
    expect(result).toBe(42)
  })

  it('logs no trace fields when no span is active', () => {
    const lines: string[] = []
    const logger = createLogger({
      level: 'info',
      role: 'api',
      destination: { write: (line: string) => lines.push(line) },
    })
    logger.info({ eventId: 'e1' }, 'hello')
    const line = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>
    expect(line).toMatchObject({ role: 'api', eventId: 'e1', msg: 'hello' })
    expect(line).not.toHaveProperty('traceId')
  })
})
