/**
 * @module The ingest pipeline shared by the native and Segment routes: who is sending (write
 * key or secret → site, origin check, CORS), how fast (rate limits), what is valid (per-event
 * validation; valid events are kept even when others are rejected), and the append to the log.
 *
 * Answers: 200 with `{ accepted, duplicates, rejected }` when anything was kept or already
 * known; 400 INVALID_EVENTS when every event was rejected; 429 / 503 (with Retry-After) when
 * nothing was kept and a retry will help. 2xx is sent only after Redis holds the events.
 */

import { isIP } from 'node:net'
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context } from 'hono'
import { originAllowed } from '../drizzle/origins'
import { ATTR, activeTraceparent, annotateActiveSpan, tracingEnabled } from '../runtime/telemetry'
import { clientEvent, type StoredEvent } from '../streams/events'
import { type FieldIssue, toFieldIssues } from '../streams/issues'
import { type Identity, verifyIdentityToken } from '../streams/live-token'
import { appendEvents, type PreparedEvent, prepareEvent } from '../streams/produce'
import type { HonoEnv } from './context'
import { ApiError } from './errors'
import type { ResolvedSite } from './sites'

/** Documented in README "Limits". */
export const INGEST_LIMITS = {
  maxEventsPerRequest: 500,
  maxBodyBytes: 500 * 1024,
  maxEventBytes: 32 * 1024,
} as const

/** One item of a batch before validation: a candidate event, or the reason it has none. */
export type Candidate = {
  index: number
  field: string
  event?: unknown
  /** Set when the item was refused before validation (e.g. it could not be mapped). */
  issue?: FieldIssue
  /** The client's id for the item when `event` does not carry it as `id`. */
  id?: string
}

export type Rejected = { index: number; id?: string; issues: FieldIssue[] }
export type IngestResponse = { accepted: number; duplicates: number; rejected: Rejected[] }

/** Write key from Basic auth (key as user name), else the body's `writeKey`, else `?writeKey=`. */
export function writeKeyOf(c: Context<HonoEnv>, body: unknown): string | undefined {
  const auth = c.req.header('authorization')
  if (auth?.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8')
    const user = decoded.split(':')[0]
    if (user) {
      return user
    }
  }
  if (typeof body === 'object' && body !== null && 'writeKey' in body) {
    const key = (body as { writeKey: unknown }).writeKey
    if (typeof key === 'string' && key !== '') {
      return key
    }
  }
  return c.req.query('writeKey') || undefined
}

/**
 * Lets the page read a refusal (401 no or unknown key, 403 origin not allowed): without CORS
 * headers a browser sees only a network error, and an SDK retries that forever. The answer
 * says nothing secret and carries no credentials, so any origin may read it.
 */
function readableRefusal(c: Context<HonoEnv>): void {
  const origin = c.req.header('origin')
  if (origin !== undefined) {
    c.header('Access-Control-Allow-Origin', origin)
    c.header('Vary', 'Origin', { append: true })
  }
}

/**
 * Resolves the key to a site and checks the browser origin. Sets CORS headers for an allowed
 * origin, so every later answer (429, 503, rejects) is readable by the page that sent it.
 */
export async function authorize(
  c: Context<HonoEnv>,
  key: string | undefined,
): Promise<ResolvedSite> {
  if (!key) {
    readableRefusal(c)
    throw new ApiError(
      'UNAUTHORIZED',
      'No write key. Send it as the Basic auth user name, a "writeKey" body field or ?writeKey=.',
    )
  }
  const { sites } = c.get('services')
  let resolved: ResolvedSite | undefined
  try {
    resolved = await sites.resolve(key)
  } catch (err) {
    c.get('services').logger.error({ err }, 'site lookup failed')
    throw new ApiError('UNAVAILABLE', 'Site lookup is unavailable; retry shortly.', {
      retryAfter: 1,
    })
  }
  if (!resolved) {
    readableRefusal(c)
    throw new ApiError('UNAUTHORIZED', 'Unknown write key.')
  }
  const origin = c.req.header('origin')
  if (origin !== undefined && !resolved.trusted) {
    if (!originAllowed(origin, resolved.site.allowedOrigins)) {
      readableRefusal(c)
      throw new ApiError(
        'FORBIDDEN',
        `Origin ${origin} is not allowed for this site. Add it with: npx nudge sites add-origin ${resolved.site.id} ${origin}`,
      )
    }
    c.header('Access-Control-Allow-Origin', origin)
    c.header('Access-Control-Allow-Credentials', 'true')
    c.header('Access-Control-Expose-Headers', 'Retry-After, X-Nudge-Token-Error')
    c.header('Vary', 'Origin', { append: true })
  }
  return resolved
}

/** The client's IP (X-Forwarded-For only with NUDGE_TRUST_PROXY), for per-IP limits. */
export function clientIp(c: Context<HonoEnv>): string | undefined {
  if (c.get('services').config.NUDGE_TRUST_PROXY) {
    // The last address: the one the proxy in front of Nudge saw and appended. Earlier ones are
    // whatever the client wrote, so taking the first would let anyone pick their own bucket.
    const forwarded = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim()
    if (forwarded && isIP(forwarded) !== 0) {
      return forwarded
    }
  }
  try {
    return getConnInfo(c).remote.address
  } catch {
    // app.request() in tests has no socket: every such request shares one bucket.
    return 'local'
  }
}

/**
 * The identity token sent with a batch (`X-Nudge-Token` header, else the body's `token`), when
 * valid and for this site. An invalid or expired one counts as absent — the events are kept,
 * unproven — and the answer carries `X-Nudge-Token-Error: <reason>` so the SDK fetches a new one.
 */
async function tokenIdentity(
  c: Context<HonoEnv>,
  who: ResolvedSite,
  bodyToken: string | undefined,
): Promise<Identity | undefined> {
  const token = c.req.header('x-nudge-token') ?? bodyToken
  if (token === undefined) {
    return undefined
  }
  const result = await verifyIdentityToken(c.get('services').identity.tokenKey, token)
  if ('reason' in result || result.siteId !== who.site.id) {
    c.header('X-Nudge-Token-Error', 'reason' in result ? result.reason : 'other_site')
    return undefined
  }
  return result
}

/**
 * Validates, stamps, rate-limits and appends a batch. Candidates keep their position so each
 * rejection names its index. With a valid identity token (`opts.token` or `X-Nudge-Token`),
 * events missing an anonymousId or userId get the token's, and a user-bound token proves its
 * userId (`verified`); an event naming another userId stays unproven.
 * @example return ingest(c, resolved, body.events.map((event, index) => ({ index, field: `events[${index}]`, event })))
 */
export async function ingest(
  c: Context<HonoEnv>,
  who: ResolvedSite,
  candidates: readonly Candidate[],
  opts: { token?: string } = {},
): Promise<Response> {
  const services = c.get('services')
  const { config, metrics, log } = services
  const now = Date.now()
  const identity = await tokenIdentity(c, who, opts.token)
  // With tracing on: the request span's context, for events that bring none of their own.
  const traceparent = activeTraceparent()
  if (traceparent !== undefined) {
    annotateActiveSpan({ [ATTR.siteId]: who.site.id })
  }

  if (!services.dryRun) {
    let waitMs: number
    try {
      waitMs = await services.rateLimiter.take(
        who.site.id,
        who.trusted ? undefined : clientIp(c),
        candidates.length,
        now,
      )
    } catch (err) {
      throw unavailable(c, err)
    }
    if (waitMs > 0) {
      throw new ApiError(
        'RATE_LIMITED',
        `Too many events for this site or client; retry after ${Math.ceil(waitMs / 1000)} s.`,
        { retryAfter: Math.ceil(waitMs / 1000) },
      )
    }
  }

  const rejected: Rejected[] = []
  const prepared: PreparedEvent[] = []
  for (const candidate of candidates) {
    const outcome = validate(candidate, who, identity, now, config.NUDGE_PARTITIONS, traceparent)
    if ('issues' in outcome) {
      rejected.push(outcome)
    } else {
      prepared.push(outcome)
    }
  }

  let accepted = 0
  let duplicates = 0
  if (prepared.length > 0) {
    if (services.dryRun) {
      accepted = prepared.length
    } else {
      const stop = metrics.appendSeconds.startTimer()
      try {
        const result = await appendEvents(services.redis, log, prepared, now)
        accepted = result.accepted
        duplicates = result.duplicateIds.length
      } catch (err) {
        throw unavailable(c, err)
      } finally {
        stop()
      }
    }
  }

  if (services.logger.isLevelEnabled('debug')) {
    services.logger.debug(
      {
        requestId: c.get('requestId'),
        siteId: who.site.id,
        accepted,
        duplicates,
        eventIds: prepared.map((p) => p.id),
        rejected: rejected.map((r) => ({ index: r.index, id: r.id, issues: r.issues })),
      },
      'ingested',
    )
  }
  metrics.ingestEvents.inc({ outcome: 'accepted' }, accepted)
  metrics.ingestEvents.inc({ outcome: 'duplicate' }, duplicates)
  metrics.ingestEvents.inc({ outcome: 'rejected' }, rejected.length)
  if (tracingEnabled()) {
    annotateActiveSpan({
      [ATTR.accepted]: accepted,
      [ATTR.duplicates]: duplicates,
      [ATTR.rejected]: rejected.length,
    })
  }

  if (accepted + duplicates === 0 && rejected.length > 0) {
    throw new ApiError('INVALID_EVENTS', `All ${rejected.length} events were rejected.`, {
      extra: { rejected },
    })
  }
  const body: IngestResponse = { accepted, duplicates, rejected }
  return c.json(body, 200)
}

/** `,"traceparent":""` around a stamped traceparent in the stored JSON. */
const STAMP_BYTES = ',"traceparent":""'.length

function validate(
  candidate: Candidate,
  who: ResolvedSite,
  identity: Identity | undefined,
  now: number,
  partitions: number,
  traceparent: string | undefined,
): PreparedEvent | Rejected {
  const { index, field } = candidate
  const rawId = candidate.id ?? (candidate.event as { id?: unknown } | undefined)?.id
  const id = typeof rawId === 'string' ? rawId : undefined
  if (candidate.issue) {
    return { index, id, issues: [candidate.issue] }
  }
  const parsed = clientEvent.safeParse(candidate.event)
  if (!parsed.success) {
    return { index, id, issues: toFieldIssues(parsed.error, field) }
  }
  const event = parsed.data
  let verified = who.trusted && event.userId !== undefined
  if (identity) {
    event.anonymousId ??= identity.anonymousId
    if (identity.userId !== undefined && (event.userId ?? identity.userId) === identity.userId) {
      event.userId = identity.userId
      verified = true
    }
  }
  if (event.anonymousId === undefined && event.userId === undefined) {
    return {
      index,
      id,
      issues: [{ field: `${field}.anonymousId`, reason: 'an anonymousId or a userId is required' }],
    }
  }
  // Object.assign, not spread: on Node 20 the spread cost ~6 µs per event here (bench:ingest).
  const stored: StoredEvent = Object.assign({}, event, {
    receivedAt: now,
    siteId: who.site.id,
    verified,
  })
  // The request's trace context is ours, not the client's: it does not count toward the limit,
  // so an event is accepted or refused alike with tracing on or off.
  let stamp = 0
  if (traceparent !== undefined && stored.traceparent === undefined) {
    stored.traceparent = traceparent
    stamp = STAMP_BYTES + traceparent.length
  }
  const ready = prepareEvent(stored, partitions)
  // UTF-16 length ≤ UTF-8 bytes ≤ 3 × length: count bytes only when it can matter.
  const bytes =
    (ready.json.length * 3 > INGEST_LIMITS.maxEventBytes
      ? Buffer.byteLength(ready.json)
      : ready.json.length) - stamp
  if (bytes > INGEST_LIMITS.maxEventBytes) {
    return {
      index,
      id,
      issues: [
        {
          field,
          reason: `event is ${bytes} bytes as stored; the limit is ${INGEST_LIMITS.maxEventBytes}`,
        },
      ],
    }
  }
  return ready
}

function unavailable(c: Context<HonoEnv>, err: unknown): ApiError {
  c.get('services').logger.warn({ err: (err as Error).message }, 'event log unavailable')
  return new ApiError(
    'UNAVAILABLE',
    'The event log is unavailable; retry after 1 s. Events of this request that were stored count once.',
    { retryAfter: 1 },
  )
}
