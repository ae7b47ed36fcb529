/**
 * @module POST /v1/identity: a short-lived signed token naming the shopper's profile, for the
 * live gateway (`/v1/live?token=`) and for ingest (`X-Nudge-Token`). An anonymousId gets an
 * anonymous token; a userId gets a user-bound token only with `userHash` = hex
 * HMAC-SHA256(site secret, userId) made by the store's backend (or when the caller sends the
 * site secret itself). A wrong or missing proof never yields a user-bound token.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Hono } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { z } from 'zod'
import { idString } from '../../streams/envelope'
import { toFieldIssues } from '../../streams/issues'
import { signIdentityToken } from '../../streams/live-token'
import { readJsonBody } from '../body'
import type { HonoEnv } from '../context'
import { ApiError } from '../errors'
import { authorize, clientIp, writeKeyOf } from '../ingest'

export const identityRequest = z.object({
  writeKey: z.string().optional(),
  anonymousId: idString.optional().describe('The SDK’s anonymous id for this browser.'),
  userId: idString.optional().describe('The store’s id of the logged-in shopper.'),
  userHash: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex characters: HMAC-SHA256(site secret, userId)')
    .optional()
    .describe('Hex HMAC-SHA256(site secret, userId), computed by the store’s backend.'),
  restore: z
    .boolean()
    .optional()
    .describe(
      'The browser lost its stored ids: use the anonymousId of the first-party cookie, if any.',
    ),
})
export type IdentityRequest = z.infer<typeof identityRequest>

export type IdentityResponse = {
  token: string
  /** Epoch ms; ask for a new token before then. */
  expiresAt: number
  /** `a:<anonymousId>` or `u:<userId>`: the profile the token is bound to. */
  profile: string
  /** The anonymousId in use: the request's, or the cookie's when `restore` found one. */
  anonymousId?: string
}

/**
 * The first-party cookie holding the anonymousId, set by the server (httpOnly) on every
 * identity answer. When the store serves Nudge under its own domain (nudge.shop.example), it
 * outlives Safari's 7-day cap on cookies set by scripts, and `restore` brings a shopper whose
 * storage was wiped back to the same profile. A different name from the SDK's own cookie,
 * which script must be able to write.
 */
export const ANONYMOUS_COOKIE = 'nudge_srv_aid'
/** Browsers cap cookie lifetimes at 400 days. */
const ANONYMOUS_COOKIE_MAX_AGE_S = 400 * 86_400

const MAX_BODY_BYTES = 4 * 1024
const HOW_TO_PROVE =
  'Send userHash = hex HMAC-SHA256(site secret, userId), computed by your backend (never in the page).'

/** Constant-time check of a userHash against the site secret. */
export function userHashMatches(secret: string, userId: string, userHash: string): boolean {
  const expected = createHmac('sha256', secret).update(userId).digest()
  const given = Buffer.from(userHash, 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

export function register(app: Hono<HonoEnv>): void {
  app.post('/v1/identity', async (c) => {
    const body = await readJsonBody(c, MAX_BODY_BYTES)
    const who = await authorize(c, writeKeyOf(c, body))
    const parsed = identityRequest.safeParse(body)
    if (!parsed.success) {
      throw new ApiError('BAD_REQUEST', 'Expected { anonymousId?, userId?, userHash? }.', {
        issues: toFieldIssues(parsed.error, ''),
      })
    }
    const { userId, userHash, restore } = parsed.data
    const fromCookie = getCookie(c, ANONYMOUS_COOKIE)
    const anonymousId =
      restore && fromCookie !== undefined && idString.safeParse(fromCookie).success
        ? fromCookie
        : parsed.data.anonymousId
    if (anonymousId === undefined && userId === undefined) {
      throw new ApiError('BAD_REQUEST', 'Send an anonymousId, or a userId with its userHash.', {
        issues: [{ field: 'anonymousId', reason: 'an anonymousId or a userId is required' }],
      })
    }
    if (userHash !== undefined && userId === undefined) {
      throw new ApiError('BAD_REQUEST', 'A userHash proves a userId: send the userId too.', {
        issues: [{ field: 'userId', reason: 'required with userHash' }],
      })
    }
    const services = c.get('services')
    const waitMs = await services.rateLimiter
      .take(who.site.id, who.trusted ? undefined : clientIp(c), 1, Date.now())
      .catch(() => {
        throw new ApiError('UNAVAILABLE', 'Rate limits are unavailable; retry after 1 s.', {
          retryAfter: 1,
        })
      })
    if (waitMs > 0) {
      throw new ApiError('RATE_LIMITED', 'Too many requests from this client; retry later.', {
        retryAfter: Math.ceil(waitMs / 1000),
      })
    }
    if (userId !== undefined && !who.trusted) {
      if (userHash === undefined) {
        throw new ApiError('UNAUTHORIZED', `userId "${userId}" needs proof. ${HOW_TO_PROVE}`, {
          issues: [{ field: 'userHash', reason: 'required with userId' }],
        })
      }
      const secret = await siteSecret(services.identity, who.site.id)
      if (!userHashMatches(secret, userId, userHash)) {
        throw new ApiError(
          'FORBIDDEN',
          `userHash does not match userId "${userId}" for this site. ${HOW_TO_PROVE} After rotating the secret, recompute it with the new one.`,
          {
            issues: [
              { field: 'userHash', reason: 'does not match HMAC-SHA256(site secret, userId)' },
            ],
          },
        )
      }
    }
    const { token, identity } = await signIdentityToken(
      services.identity.tokenKey,
      { siteId: who.site.id, anonymousId, userId },
      services.identity.ttlMs,
    )
    const response: IdentityResponse = {
      token,
      expiresAt: identity.expiresAt,
      profile: identity.profileKey.slice(who.site.id.length + 1),
      ...(anonymousId !== undefined && { anonymousId }),
    }
    if (anonymousId !== undefined) {
      setCookie(c, ANONYMOUS_COOKIE, anonymousId, {
        httpOnly: true,
        sameSite: 'Lax',
        secure: new URL(c.req.url).protocol === 'https:',
        path: '/',
        maxAge: ANONYMOUS_COOKIE_MAX_AGE_S,
      })
    }
    return c.json(response, 200)
  })
}

async function siteSecret(
  identity: HonoEnv['Variables']['services']['identity'],
  siteId: string,
): Promise<string> {
  const rotate = `Run: npx nudge sites rotate-secret ${siteId}, then give the new secret to your backend.`
  let sealed: string | null | undefined
  try {
    sealed = await identity.sealedSecret(siteId)
  } catch {
    throw new ApiError('UNAVAILABLE', 'Site lookup is unavailable; retry shortly.', {
      retryAfter: 1,
    })
  }
  if (sealed === undefined) {
    throw new ApiError('UNAUTHORIZED', 'Unknown write key.')
  }
  if (sealed === null) {
    throw new ApiError(
      'CONFLICT',
      `Site ${siteId} was created before Nudge kept secrets for userHash checks, so it cannot verify a userId yet. ${rotate}`,
    )
  }
  try {
    return identity.box.open(sealed, siteId)
  } catch {
    throw new ApiError(
      'CONFLICT',
      `Site ${siteId}'s secret was sealed under another NUDGE_SECRET_KEY than this server's. Give every process the same NUDGE_SECRET_KEY, or: ${rotate}`,
    )
  }
}
