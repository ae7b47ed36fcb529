/**
 * @module The api's closed set of error codes, the one code→status table and the one body
 * shape: `{ error: { code, message, requestId, issues?, … } }` (README "Errors" lists the codes). `handleError`
 * is the app's single onError: ours, Hono's HTTPException, or unknown (→ 500 + log).
 */
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { HonoEnv } from './context'

export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  INVALID_JSON: 400,
  INVALID_EVENTS: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_ENCODING: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const satisfies Record<string, ContentfulStatusCode>

export type ApiErrorCode = keyof typeof ERROR_STATUS

/** One problem with one field: `field` is a path such as `events[3].props.price`. */
export type FieldIssue = { field: string; reason: string }

/** An expected failure with a code from the closed set; `retryAfter` (seconds) for 429/503. */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  readonly code: ApiErrorCode
  readonly issues?: FieldIssue[]
  readonly retryAfter?: number
  readonly extra?: Record<string, unknown>

  constructor(
    code: ApiErrorCode,
    message: string,
    opts: { issues?: FieldIssue[]; retryAfter?: number; extra?: Record<string, unknown> } = {},
  ) {
    super(message)
    this.code = code
    this.issues = opts.issues
    this.retryAfter = opts.retryAfter
    this.extra = opts.extra
  }
}

/** The error body every non-2xx answer carries. */
export type ErrorBody = {
  error: {
    code: ApiErrorCode
    message: string
    requestId: string
    issues?: FieldIssue[]
  } & Record<string, unknown>
}

function body(c: Context<HonoEnv>, code: ApiErrorCode, message: string, more = {}): ErrorBody {
  return {
    error: {
      code,
      message,
      requestId: c.get('requestId') ?? '',
      ...more,
    },
  }
}

/** The app's onError. */
export function handleError(err: Error, c: Context<HonoEnv>): Response {
  if (err instanceof ApiError) {
    if (err.retryAfter !== undefined) {
      c.header('Retry-After', String(err.retryAfter))
    }
    return c.json(
      body(c, err.code, err.message, { ...(err.issues && { issues: err.issues }), ...err.extra }),
      ERROR_STATUS[err.code],
    )
  }
  if (err instanceof HTTPException) {
    const status = err.status
    const code: ApiErrorCode =
      status === 413
        ? 'PAYLOAD_TOO_LARGE'
        : status === 401
          ? 'UNAUTHORIZED'
          : status === 403
            ? 'FORBIDDEN'
            : status === 404
              ? 'NOT_FOUND'
              : status >= 500
                ? 'INTERNAL'
                : 'BAD_REQUEST'
    return c.json(body(c, code, err.message || 'Request failed'), status)
  }
  c.get('services')?.logger.error({ err, requestId: c.get('requestId') }, 'unhandled error')
  return c.json(body(c, 'INTERNAL', 'Something went wrong on our side; it has been logged.'), 500)
}
