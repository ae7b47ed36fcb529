/**
 * @module Authentication of the server-to-server read endpoints (profiles, recommendations):
 * the site secret as the Basic auth user name, nothing else. The public write key is in every
 * page of the store, so anything it could read, anybody could read: it gets 403. Only the
 * header is accepted, never a query parameter, which would leave the secret in access logs.
 */
import type { Context } from 'hono'
import type { HonoEnv } from './context'
import { ApiError } from './errors'
import { authorize } from './ingest'
import type { ResolvedSite } from './sites'

const HOW = 'Send the site secret (sk_…) as the Basic auth user name.'

/**
 * The site whose secret the caller sent; throws 401 without a known secret, 403 for a write key.
 * @example const { site } = await authorizeServer(c)
 */
export async function authorizeServer(c: Context<HonoEnv>): Promise<ResolvedSite> {
  const auth = c.req.header('authorization')
  const key = auth?.toLowerCase().startsWith('basic ')
    ? Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8').split(':')[0]
    : undefined
  if (!key) {
    throw new ApiError('UNAUTHORIZED', `No credentials. ${HOW}`)
  }
  let resolved: ResolvedSite
  try {
    resolved = await authorize(c, key)
  } catch (err) {
    if (err instanceof ApiError && err.code === 'UNAUTHORIZED') {
      throw new ApiError('UNAUTHORIZED', `Unknown site secret. ${HOW}`)
    }
    throw err
  }
  if (!resolved.trusted) {
    throw new ApiError(
      'FORBIDDEN',
      `This is a server-to-server endpoint: the public write key cannot read profiles or recommendations. ${HOW}`,
    )
  }
  return resolved
}
