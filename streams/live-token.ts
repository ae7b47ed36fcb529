/**
 * @module Identity tokens: the contract between the api, which issues them (POST /v1/identity),
 * and whoever trusts them (the gateway at `/v1/live`, the api's ingest routes).
 *
 * A token is a JWT (HS256, signed with the key HKDF-derived from NUDGE_SECRET_KEY, see
 * runtime/secret-key.ts) naming exactly one profile of one site:
 * - anonymous: `{ site, sub: '<site>:a:<anonymousId>', aid }`
 * - user: `{ site, sub: '<site>:u:<userId>', uid, aid? }`, issued only after the userHash proof.
 * `sub` is always `profileKey(site, …)` of the other claims, checked on verify.
 *
 * Limits: lifetime NUDGE_TOKEN_TTL (default 1 h); at most 2 KB of token text is looked at;
 * 30 s of clock skew between processes is tolerated.
 */
import { errors, jwtVerify, SignJWT } from 'jose'
import { z } from 'zod'
import { idString } from './envelope'
import { profileKey } from './partition'

export const TOKEN = {
  issuer: 'nudge',
  audience: 'nudge:identity',
  maxLength: 2048,
  clockToleranceS: 30,
} as const

const claimsSchema = z.object({
  site: idString,
  sub: z.string().min(1).max(300),
  aid: idString.optional(),
  uid: idString.optional(),
  exp: z.number().int(),
})

/** What a valid token says: the site, the profile, and the ids behind it. */
export type Identity = {
  siteId: string
  /** The profile this token may read and write (streams/partition.ts profileKey). */
  profileKey: string
  anonymousId?: string
  /** Set only on user-bound tokens, i.e. proven. */
  userId?: string
  /** Epoch ms after which the token is refused. */
  expiresAt: number
}

export type TokenFailure = { reason: 'missing' | 'malformed' | 'expired' | 'invalid' }

/**
 * Signs a token for one profile; `userId` only after the caller checked the proof.
 * @example const { token } = await signIdentityToken(keys.token, { siteId, anonymousId: 'a-1' }, 3_600_000)
 */
export async function signIdentityToken(
  key: Uint8Array,
  who: { siteId: string; anonymousId?: string; userId?: string },
  ttlMs: number,
  now = Date.now(),
): Promise<{ token: string; identity: Identity }> {
  const identity: Identity = {
    siteId: who.siteId,
    profileKey: profileKey(who.siteId, {
      anonymousId: who.anonymousId,
      userId: who.userId,
      verified: who.userId !== undefined,
    }),
    ...(who.anonymousId !== undefined && { anonymousId: who.anonymousId }),
    ...(who.userId !== undefined && { userId: who.userId }),
    // JWT times are whole seconds: round down so the token never outlives the promised ttl.
    expiresAt: Math.floor((now + ttlMs) / 1000) * 1000,
  }
  const token = await new SignJWT({
    site: identity.siteId,
    ...(identity.anonymousId !== undefined && { aid: identity.anonymousId }),
    ...(identity.userId !== undefined && { uid: identity.userId }),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(TOKEN.issuer)
    .setAudience(TOKEN.audience)
    .setSubject(identity.profileKey)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(identity.expiresAt / 1000)
    .sign(key)
  return { token, identity }
}

/**
 * Checks signature, issuer, audience, expiry and that `sub` matches the other claims.
 * Never throws for a bad token: the reason says what to tell the client.
 * @example const result = await verifyIdentityToken(keys.token, token); if ('reason' in result) reject(result.reason)
 */
export async function verifyIdentityToken(
  key: Uint8Array,
  token: string | undefined | null,
  now = Date.now(),
): Promise<Identity | TokenFailure> {
  if (!token) {
    return { reason: 'missing' }
  }
  if (token.length > TOKEN.maxLength || token.split('.').length !== 3) {
    return { reason: 'malformed' }
  }
  let payload: unknown
  try {
    const verified = await jwtVerify(token, key, {
      algorithms: ['HS256'],
      issuer: TOKEN.issuer,
      audience: TOKEN.audience,
      clockTolerance: TOKEN.clockToleranceS,
      currentDate: new Date(now),
    })
    payload = verified.payload
  } catch (err) {
    return { reason: err instanceof errors.JWTExpired ? 'expired' : 'invalid' }
  }
  const claims = claimsSchema.safeParse(payload)
  if (!claims.success) {
    return { reason: 'invalid' }
  }
  const { site, sub, aid, uid, exp } = claims.data
  const expected = profileKey(site, { anonymousId: aid, userId: uid, verified: uid !== undefined })
  if (sub !== expected || (aid === undefined && uid === undefined)) {
    return { reason: 'invalid' }
  }
  return {
    siteId: site,
    profileKey: sub,
    ...(aid !== undefined && { anonymousId: aid }),
    ...(uid !== undefined && { userId: uid }),
    expiresAt: exp * 1000,
  }
}
