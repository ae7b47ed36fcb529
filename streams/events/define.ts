/** @module defineEvent: one event type at one version = the envelope + literal type, v + props. */
import { z } from 'zod'
import { envelope } from '../envelope'

/**
 * @example const ProductViewed = defineEvent('ProductViewed', 1, productProps)
 */
export function defineEvent<const T extends string, const V extends number, P extends z.ZodType>(
  type: T,
  v: V,
  props: P,
  description: string,
) {
  return envelope
    .extend({ type: z.literal(type), v: z.literal(v), props })
    .describe(`${type} v${v}: ${description}`)
}
