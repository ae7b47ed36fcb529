/** @module Custom: any other named event, so that no tracked call is dropped. */
import { z } from 'zod'
import { freeProperties, LIMITS, text } from '../envelope'
import { defineEvent } from './define'

export const Custom = defineEvent(
  'Custom',
  1,
  z.object({
    name: text(LIMITS.nameLength).min(1).describe('The event name as the client tracked it.'),
    properties: freeProperties.default({}),
  }),
  'a named event with bounded free-form properties.',
)
