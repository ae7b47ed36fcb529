/** @module Admin request bodies through zod, with the rule model's marketer-friendly issues. */
import type { z } from 'zod'
import { ruleIssues } from '../../streams/rules'
import { ApiError } from '../errors'

/**
 * Parses `body` or throws a 400 naming each bad field and why.
 * @example const input = parseWith(ruleInput, await readJsonBody(c, max))
 */
export function parseWith<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body)
  if (!parsed.success) {
    const issues = ruleIssues(parsed.error)
    throw new ApiError(
      'BAD_REQUEST',
      `Please fix ${issues.length === 1 ? 'this field' : `these ${issues.length} fields`}: ${issues
        .map((i) => `${i.field}: ${i.reason}`)
        .join('; ')}.`,
      { issues },
    )
  }
  return parsed.data
}
