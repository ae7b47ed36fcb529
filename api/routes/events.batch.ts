/** @module POST /v1/events: the native batch ingest, `{ events: [...] }`. */
import type { Hono } from 'hono'
import { z } from 'zod'
import { readJsonBody } from '../body'
import type { HonoEnv } from '../context'
import { ApiError } from '../errors'
import { authorize, INGEST_LIMITS, type IngestResponse, ingest, writeKeyOf } from '../ingest'
import { ingestSpan } from '../middleware/ingest-span'

/** The outer shape only; each event is validated on its own so one bad event rejects alone. */
export const eventsBatchRequest = z.object({
  events: z.array(z.unknown()),
  writeKey: z.string().optional(),
  /** An identity token from POST /v1/identity (or send it as the X-Nudge-Token header). */
  token: z.string().max(4096).optional(),
})
export type EventsBatchRequest = z.infer<typeof eventsBatchRequest>
export type EventsBatchResponse = IngestResponse

export function register(app: Hono<HonoEnv>): void {
  app.post('/v1/events', ingestSpan, async (c) => {
    const body = await readJsonBody(c, INGEST_LIMITS.maxBodyBytes)
    const who = await authorize(c, writeKeyOf(c, body))
    const parsed = eventsBatchRequest.safeParse(body)
    if (!parsed.success) {
      throw new ApiError('BAD_REQUEST', 'Expected a JSON object { "events": [ … ] }.', {
        issues: [{ field: 'events', reason: 'expected an array of events' }],
      })
    }
    const { events, token } = parsed.data
    if (events.length === 0) {
      throw new ApiError('BAD_REQUEST', 'The batch is empty; send 1 to 500 events.', {
        issues: [{ field: 'events', reason: 'expected 1 to 500 events' }],
      })
    }
    if (events.length > INGEST_LIMITS.maxEventsPerRequest) {
      throw new ApiError(
        'PAYLOAD_TOO_LARGE',
        `The batch holds ${events.length} events; the limit is ${INGEST_LIMITS.maxEventsPerRequest} per request.`,
      )
    }
    return ingest(
      c,
      who,
      events.map((event, index) => ({ index, field: `events[${index}]`, event })),
      { token },
    )
  })
}
