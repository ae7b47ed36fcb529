/**
 * @module OpenTelemetry tracing: on only when an OTLP endpoint is configured, and then spans go
 * to it over OTLP/HTTP (JSON) in batches. Off, the SDK is never loaded and every helper here
 * returns at once, so the hot paths pay one boolean check.
 *
 * Tracing is process-global (OpenTelemetry's API keeps the tracer provider, context manager and
 * propagator on `globalThis`): `startTelemetry` registers them, `shutdown` flushes and
 * unregisters them, so a test can start and stop it cleanly.
 */
import {
  type Attributes,
  type Context,
  context,
  createTraceState,
  DiagLogLevel,
  diag,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  type SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_NAME,
} from '@opentelemetry/semantic-conventions'
import type { Logger } from './logger'

/** The variables tracing reads (runtime/config.ts parses them). */
export type TelemetryConfig = {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string
  OTEL_SERVICE_NAME?: string
  OTEL_SDK_DISABLED?: boolean
}

/**
 * Span attribute names Nudge sets. HTTP ones are stable semantic conventions; the messaging
 * ones are copied from the incubating conventions, as OpenTelemetry advises for names that may
 * still change; `nudge.*` are ours.
 */
export const ATTR = {
  httpMethod: ATTR_HTTP_REQUEST_METHOD,
  httpRoute: ATTR_HTTP_ROUTE,
  httpStatus: ATTR_HTTP_RESPONSE_STATUS_CODE,
  messagingSystem: 'messaging.system',
  messagingDestination: 'messaging.destination.name',
  messagingOperation: 'messaging.operation.type',
  messagingMessageId: 'messaging.message.id',
  messagingBatchCount: 'messaging.batch.message_count',
  siteId: 'nudge.site.id',
  accepted: 'nudge.events.accepted',
  duplicates: 'nudge.events.duplicates',
  rejected: 'nudge.events.rejected',
  partition: 'nudge.partition',
  applied: 'nudge.events.applied',
} as const

export type Telemetry = {
  /** False when no endpoint is set (or OTEL_SDK_DISABLED): nothing is recorded or sent. */
  enabled: boolean
  /** Where spans go, when enabled. */
  url?: string
  serviceName: string
  /** Sends every span ended so far; resolves once the receiver answered or the send failed. */
  flush(): Promise<void>
  /** Flushes, then unregisters the global tracer provider, context manager and propagator. */
  shutdown(): Promise<void>
}

type Running = {
  tracer: Tracer
  provider: { forceFlush(): Promise<void>; shutdown(): Promise<void> }
}

/** Set while tracing runs; undefined is the "off" every helper checks first. */
let running: Running | undefined

/** What `inSpan` hands `fn` with tracing off: records nothing, holds no state. */
const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT)

/** `nudge-api`, `nudge-workers`, `nudge-gateway`; `nudge` for every role in one process. */
export function serviceNameOf(role: string, config: TelemetryConfig): string {
  return config.OTEL_SERVICE_NAME ?? (role === 'all' ? 'nudge' : `nudge-${role}`)
}

/**
 * The OTLP/HTTP traces URL: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else
 * OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces` (as the OTLP exporter specification says).
 */
export function tracesUrlOf(config: TelemetryConfig): string | undefined {
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
    return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
  }
  const base = config.OTEL_EXPORTER_OTLP_ENDPOINT
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined
}

/**
 * Starts tracing for `role` when an endpoint is configured; otherwise returns a handle whose
 * flush and shutdown do nothing. Throws when tracing already runs in this process.
 * @example const telemetry = await startTelemetry(config, 'api', logger); …; await telemetry.shutdown()
 */
export async function startTelemetry(
  config: TelemetryConfig,
  role: string,
  logger?: Logger,
): Promise<Telemetry> {
  const serviceName = serviceNameOf(role, config)
  const url = config.OTEL_SDK_DISABLED ? undefined : tracesUrlOf(config)
  if (url === undefined) {
    const idle = async () => {}
    return { enabled: false, serviceName, flush: idle, shutdown: idle }
  }
  // Loaded only here, so a process without an endpoint never loads the SDK.
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, resources] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ])
  if (running) {
    throw new Error('OpenTelemetry tracing is already started in this process')
  }
  if (logger) {
    // Export failures (collector down, refused) surface through diag; without a logger they
    // would vanish. Logged outside any span: the export runs in the context of whichever span
    // happened to start the batch timer, whose trace id would mislead.
    const warn = (message: string) =>
      context.with(ROOT_CONTEXT, () => logger.warn({ component: 'otel' }, message))
    diag.setLogger(
      { error: warn, warn, info: () => {}, debug: () => {}, verbose: () => {} },
      DiagLogLevel.WARN,
    )
  }
  const resource = resources
    .defaultResource()
    .merge(resources.detectResources({ detectors: [resources.envDetector] }))
    .merge(resources.resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }))
  const provider = new NodeTracerProvider({
    resource,
    // Headers, timeout and compression come from the standard OTEL_EXPORTER_OTLP_* variables.
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  })
  // AsyncLocalStorage context (the active span follows awaits) and W3C trace context headers.
  provider.register()
  running = { tracer: provider.getTracer('nudge'), provider }
  let stopped = false
  return {
    enabled: true,
    url,
    serviceName,
    flush: () => provider.forceFlush(),
    async shutdown() {
      if (stopped) {
        return
      }
      stopped = true
      running = undefined
      try {
        await provider.shutdown()
      } finally {
        trace.disable()
        context.disable()
        propagation.disable()
        diag.disable()
      }
    },
  }
}

/** True while spans are recorded and exported. */
export function tracingEnabled(): boolean {
  return running !== undefined
}

/** What a span is started with. */
export type SpanOptions = {
  kind: SpanKind
  attributes?: Attributes
  /** The remote parent, as W3C `traceparent` (and `tracestate`) header values. */
  parent?: { traceparent?: string; tracestate?: string }
  /** Spans this one follows from but is not a child of (e.g. the requests of a job's events). */
  links?: Link[]
}

/**
 * Runs `fn` inside a new active span (logs written inside carry its trace id) and ends the span
 * when `fn` settles; a throw is recorded on the span and rethrown. With tracing off, `fn` runs
 * at once with a span that records nothing.
 * @example await inSpan('process events', { kind: SpanKind.CONSUMER }, (span) => work(span))
 */
export function inSpan<T>(
  name: string,
  opts: SpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  if (running === undefined) {
    return fn(NO_SPAN)
  }
  const parent = parentContext(opts.parent)
  return running.tracer.startActiveSpan(
    name,
    { kind: opts.kind, attributes: opts.attributes, links: opts.links },
    parent,
    async (span) => {
      try {
        return await fn(span)
      } catch (err) {
        span.recordException(err as Error)
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message })
        throw err
      } finally {
        span.end()
      }
    },
  )
}

/** A context holding the remote parent, or the root context when there is none (or it is bad). */
function parentContext(parent: SpanOptions['parent']): Context {
  const spanContext =
    parent?.traceparent === undefined ? undefined : parseTraceparent(parent.traceparent)
  if (spanContext === undefined) {
    return ROOT_CONTEXT
  }
  if (parent?.tracestate) {
    spanContext.traceState = createTraceState(parent.tracestate)
  }
  return trace.setSpanContext(ROOT_CONTEXT, spanContext)
}

/**
 * The active span as a W3C `traceparent`, for stamping on work that continues elsewhere (an
 * event the workers process later); undefined with tracing off or no span active.
 * @example event.traceparent ??= activeTraceparent()
 */
export function activeTraceparent(): string | undefined {
  if (running === undefined) {
    return undefined
  }
  const span = trace.getActiveSpan()
  return span === undefined ? undefined : traceparentOf(span.spanContext())
}

/** Sets attributes on the active span; nothing with tracing off or no span active. */
export function annotateActiveSpan(attributes: Attributes): void {
  if (running !== undefined) {
    trace.getActiveSpan()?.setAttributes(attributes)
  }
}

/** `00-<trace id>-<span id>-<flags>`, or undefined for an invalid context. */
export function traceparentOf(spanContext: SpanContext): string | undefined {
  if (!isSpanContextValid(spanContext)) {
    return undefined
  }
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0')
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/**
 * A W3C `traceparent` as a remote span context; undefined when it is malformed, of version ff,
 * or names the all-zero trace or span.
 */
export function parseTraceparent(value: string): SpanContext | undefined {
  const match = TRACEPARENT.exec(value)
  if (!match || match[1] === 'ff') {
    return undefined
  }
  const spanContext: SpanContext = {
    traceId: match[2] as string,
    spanId: match[3] as string,
    traceFlags: Number.parseInt(match[4] as string, 16),
    isRemote: true,
  }
  return isSpanContextValid(spanContext) ? spanContext : undefined
}
