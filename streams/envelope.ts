/**
 * @module The event envelope: the fields every event carries, whatever its type.
 *
 * Limits are part of the contract (clients may validate against the JSON Schema before
 * sending): ids ≤ 128 printable ASCII characters, URLs ≤ 2048 characters, free text ≤ 1024,
 * timestamps in epoch milliseconds between 2000-01-01 and 2100-01-01. A new optional field is
 * a compatible change; anything else is a new `v` of the event type.
 */
import { z } from 'zod'

export const LIMITS = {
  idLength: 128,
  urlLength: 2048,
  textLength: 1024,
  nameLength: 256,
  /** Free-form properties (Custom events): nesting depth, keys per object, items per array. */
  jsonDepth: 3,
  jsonKeys: 50,
  jsonItems: 50,
  jsonKeyLength: 64,
  productsPerEvent: 100,
} as const

const MIN_TS = Date.UTC(2000, 0, 1)
const MAX_TS = Date.UTC(2100, 0, 1)

export const idString = z
  .string()
  .regex(/^[\x21-\x7e]{1,128}$/, 'expected 1 to 128 printable ASCII characters, no spaces')
export const text = (max: number = LIMITS.textLength) => z.string().max(max)
export const url = z.string().max(LIMITS.urlLength)
export const epochMs = z
  .number()
  .int('expected whole epoch milliseconds')
  .min(MIN_TS, 'expected epoch milliseconds after 2000-01-01')
  .max(MAX_TS, 'expected epoch milliseconds before 2100-01-01')

export const context = z
  .object({
    url: url.optional(),
    referrer: url.optional(),
    userAgent: text(512).optional(),
    locale: text(35).optional(),
    ip: text(45).optional(),
    timezone: text(64).optional(),
  })
  .describe('Where the event happened. Unknown keys are dropped.')

const scalar = z.union([z.string().max(LIMITS.textLength), z.number(), z.boolean(), z.null()])

function boundedJson(depth: number): z.ZodType {
  if (depth === 0) {
    return scalar
  }
  const inner = boundedJson(depth - 1)
  return z.union([
    scalar,
    z.array(inner).max(LIMITS.jsonItems),
    z
      .record(z.string().max(LIMITS.jsonKeyLength), inner)
      .refine((o) => Object.keys(o).length <= LIMITS.jsonKeys, {
        message: `expected at most ${LIMITS.jsonKeys} keys`,
      }),
  ])
}

/** Free-form properties: an object of JSON values nested at most LIMITS.jsonDepth deep. */
export const freeProperties = z
  .record(z.string().max(LIMITS.jsonKeyLength), boundedJson(LIMITS.jsonDepth - 1))
  .refine((o) => Object.keys(o).length <= LIMITS.jsonKeys, {
    message: `expected at most ${LIMITS.jsonKeys} keys`,
  })

/** The fields a client sends with every event. */
export const envelope = z.object({
  id: idString.describe('Client-made unique id; the dedup key (Segment messageId).'),
  anonymousId: idString.optional().describe('Browser-made id of the visitor.'),
  userId: idString
    .optional()
    .describe('The store’s user id. Counts for the user only when proven (see README).'),
  sessionId: idString.optional(),
  ts: epochMs.describe('Client time of the event, epoch milliseconds.'),
  context: context.optional(),
  traceparent: z
    .string()
    .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, 'expected a W3C traceparent')
    .optional(),
})

/** Fields the api stamps on every event before it enters the log. Clients never send them. */
export const serverFields = z.object({
  receivedAt: epochMs.describe('Server time the api received the event.'),
  siteId: idString.describe('The site whose write key sent it.'),
  verified: z
    .boolean()
    .describe('True when userId is proven (sent with the site secret or a user-bound token).'),
})
