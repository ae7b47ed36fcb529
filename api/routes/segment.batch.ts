/**
 * @module The Segment Tracking API: `POST /v1/batch` (and `/v1/b`), and the single-call forms
 * `/v1/track|identify|page|screen|group|alias` (and `/v1/t|i|p|s|g|a` as analytics.js sends
 * them), and `/beacon/v1/batch` (RudderStack JS in beacon mode). Bodies are parsed as JSON
 * whatever their Content-Type; each message is mapped to a
 * native event (segment/map-event.ts) and then ingested exactly like `POST /v1/events`.
 */
import type { Context, Hono } from 'hono'
import { readJsonBody } from '../body'
import type { HonoEnv } from '../context'
import { ApiError } from '../errors'
import {
  authorize,
  type Candidate,
  INGEST_LIMITS,
  type IngestResponse,
  ingest,
  writeKeyOf,
} from '../ingest'
import { ingestSpan } from '../middleware/ingest-span'
import { mapSegmentMessage, type SegmentCallType } from '../segment/map-event'

export type SegmentBatchResponse = IngestResponse

const SINGLE_CALLS: [SegmentCallType, string][] = [
  ['track', 't'],
  ['identify', 'i'],
  ['page', 'p'],
  ['screen', 's'],
  ['group', 'g'],
  ['alias', 'a'],
]

function candidates(
  messages: readonly unknown[],
  base: string,
  opts: { callType?: SegmentCallType; batchContext?: unknown },
): Candidate[] {
  const now = Date.now()
  return messages.map((message, index) => {
    const field = base === '' ? '' : `${base}[${index}]`
    const mapped = mapSegmentMessage(message, { ...opts, now })
    if (mapped.ok) {
      return { index, field, event: mapped.event }
    }
    const messageId = (message as { messageId?: unknown } | null)?.messageId
    return {
      index,
      field,
      id: typeof messageId === 'string' ? messageId : undefined,
      issue: {
        field: field === '' ? mapped.field : `${field}.${mapped.field}`,
        reason: mapped.reason,
      },
    }
  })
}

async function batch(c: Context<HonoEnv>): Promise<Response> {
  const body = await readJsonBody(c, INGEST_LIMITS.maxBodyBytes)
  const who = await authorize(c, writeKeyOf(c, body))
  const messages = (body as { batch?: unknown } | null)?.batch
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new ApiError(
      'BAD_REQUEST',
      'Expected a JSON object { "batch": [ … ] } with 1 to 500 messages.',
      {
        issues: [{ field: 'batch', reason: 'expected an array of 1 to 500 messages' }],
      },
    )
  }
  if (messages.length > INGEST_LIMITS.maxEventsPerRequest) {
    throw new ApiError(
      'PAYLOAD_TOO_LARGE',
      `The batch holds ${messages.length} messages; the limit is ${INGEST_LIMITS.maxEventsPerRequest} per request.`,
    )
  }
  const batchContext = (body as { context?: unknown }).context
  return ingest(c, who, candidates(messages, 'batch', { batchContext }))
}

export function register(app: Hono<HonoEnv>): void {
  app.post('/v1/batch', ingestSpan, batch)
  app.post('/v1/b', ingestSpan, batch)
  // RudderStack JS v3 in beacon mode: a text/plain blob with ?writeKey=.
  app.post('/beacon/v1/batch', ingestSpan, batch)
  for (const [callType, short] of SINGLE_CALLS) {
    const single = async (c: Context<HonoEnv>) => {
      const body = await readJsonBody(c, INGEST_LIMITS.maxBodyBytes)
      const who = await authorize(c, writeKeyOf(c, body))
      return ingest(c, who, candidates([body], '', { callType }))
    }
    app.post(`/v1/${callType}`, ingestSpan, single)
    app.post(`/v1/${short}`, ingestSpan, single)
  }
}
