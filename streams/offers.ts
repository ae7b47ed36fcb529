/**
 * @module The offer contract between the workers (who decide) and the gateway (who pushes):
 * the offer as stored in a shopper's inbox and sent in an `offer` frame, and the inbox limits.
 *
 * Delivery is: XADD to `profile:{u}:inbox` (a stream, so its entry ids order offers for
 * `resume`) plus PUBLISH of the same JSON on `live:{u}`. The inbox is the truth; the publish
 * is only the fast path, so a gateway that missed it recovers from the inbox.
 *
 * Offer text is plain text: clients render it with textContent, never as HTML. Every URL is
 * http(s).
 */
import { z } from 'zod'
import { epochMs, idString, LIMITS, text } from './envelope'

/** An http(s) URL: anything else (javascript:, data:) is refused wherever an offer is built. */
export const httpUrl = z
  .string()
  .max(LIMITS.urlLength)
  .refine((raw) => /^https?:\/\//i.test(raw) && URL.canParse(raw), {
    message: 'expected a full http:// or https:// address',
  })

/** A recommended product as an offer carries it (filled at decision time). */
export const offerProduct = z.object({
  id: z.string().min(1).max(LIMITS.idLength),
  name: text(LIMITS.nameLength).optional(),
  category: text(LIMITS.nameLength).optional(),
  price: z.number().min(0).max(1e9).optional(),
  url: httpUrl.optional(),
  imageUrl: httpUrl.optional(),
})
export type OfferProduct = z.infer<typeof offerProduct>

export const offer = z.object({
  /** `ofr_…`, unique per decision; acks and `resume` name it. */
  id: idString,
  ruleId: idString,
  ruleVersion: z.number().int().min(1),
  title: text(120),
  body: text(500),
  cta: z.object({ label: text(40), url: httpUrl }),
  code: text(40).optional(),
  imageUrl: httpUrl.optional(),
  products: z.array(offerProduct).max(12).default([]),
  /** When the workers decided it; the gateway's push-latency histogram starts here. */
  decidedAt: epochMs,
  /** Past this the gateway neither pushes nor replays it. */
  expiresAt: epochMs,
})
export type Offer = z.infer<typeof offer>

export const INBOX = {
  /** Offers kept per shopper (XADD MAXLEN): enough to recover a reconnect, never a backlog. */
  maxLength: 20,
  /** The inbox key expires this long after its last offer. */
  ttlMs: 24 * 3_600_000,
  /** The stream field holding the offer JSON. */
  field: 'offer',
} as const
