/**
 * @module Turning schema failures into issues a person can act on: a field path such as
 * `events[3].props.price` and a reason in plain words. Shared by every producer that reports
 * rejected input (the api today, imports later).
 */
import type { z } from 'zod'
import { LIMITS } from './envelope'
import { EVENT_TYPES } from './events'

/** One problem with one field. */
export type FieldIssue = { field: string; reason: string }

const EVENT_TYPE_LIST = EVENT_TYPES.join(', ')
const JSON_VALUE_REASON = `expected a JSON value nested at most ${LIMITS.jsonDepth} levels deep (strings up to ${LIMITS.textLength} characters, arrays up to ${LIMITS.jsonItems} items, objects up to ${LIMITS.jsonKeys} keys)`

/** `['props', 'products', 0, 'price']` under `events[3]` → `events[3].props.products[0].price`. */
export function fieldPath(base: string, path: readonly PropertyKey[]): string {
  let out = base
  for (const part of path) {
    out += typeof part === 'number' ? `[${part}]` : out === '' ? String(part) : `.${String(part)}`
  }
  return out
}

/**
 * Flattens a zod error into field issues under `base`.
 * @example toFieldIssues(result.error, 'events[3]')
 */
export function toFieldIssues(error: z.ZodError, base: string): FieldIssue[] {
  return error.issues.map((issue) => {
    const field = fieldPath(base, issue.path)
    if (issue.code === 'invalid_union') {
      if ('discriminator' in issue && issue.discriminator === 'type') {
        return { field, reason: `unknown event type; expected one of ${EVENT_TYPE_LIST}` }
      }
      return { field, reason: JSON_VALUE_REASON }
    }
    return { field, reason: issue.message.replace(/^Invalid input: /, '') }
  })
}
