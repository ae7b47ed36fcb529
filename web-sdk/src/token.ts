/**
 * @module Identity tokens from `POST /v1/identity` (api/routes/identity.token.ts): an anonymous
 * token for the anonymousId, or a user-bound one for a userId proven by its userHash
 * (HMAC-SHA256 of the userId with the site secret, computed by the store's backend). Tokens
 * ride with event batches (body field `token`) and open the live socket (`?token=`). They last
 * about an hour (NUDGE_TOKEN_TTL); callers refresh them before `expiresAt`.
 */

export type Token = {
  token: string
  expiresAt: number
  /** The anonymousId the server used: the server cookie's when `restore` found one. */
  anonymousId?: string
}

export type TokenRequest = {
  writeKey: string
  anonymousId?: string
  userId?: string
  userHash?: string
  /** Ask the server for the anonymousId its first-party cookie remembers. */
  restore?: boolean
}

/** Refresh when less than this much of a token's life is left. */
export const REFRESH_BEFORE_MS = 5 * 60_000

/**
 * Asks for a token; undefined when the api refused (the reason is logged) or is unreachable.
 * @example const t = await requestToken(host, { writeKey, anonymousId }, log)
 */
export async function requestToken(
  host: string,
  body: TokenRequest,
  log: (message: string, detail?: unknown) => void,
): Promise<Token | undefined> {
  try {
    // text/plain with the key in the body: a CORS simple request, like event batches.
    const res = await fetch(`${host}/v1/identity`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'text/plain' },
      credentials: 'include',
    })
    const answer = (await res.json()) as Partial<Token> & { error?: { message?: string } }
    if (res.ok && typeof answer.token === 'string' && typeof answer.expiresAt === 'number') {
      return {
        token: answer.token,
        expiresAt: answer.expiresAt,
        ...(typeof answer.anonymousId === 'string' && { anonymousId: answer.anonymousId }),
      }
    }
    log(`identity refused: ${res.status} ${answer.error?.message ?? ''}`)
  } catch (err) {
    log('identity request failed', err)
  }
  return undefined
}
