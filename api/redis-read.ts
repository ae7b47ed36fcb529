/**
 * @module Reads for the api's GET endpoints: a pipeline's replies or a fast 503 (the client
 * times out commands after NUDGE_REDIS_TIMEOUT, so Redis being away never hangs a request).
 */
import type { Context } from 'hono'
import type { ChainableCommander } from 'ioredis'
import type { HonoEnv } from './context'
import { ApiError } from './errors'

/**
 * Every reply of `pipeline`, in order; 503 with Retry-After when any command fails.
 * @example const [hash] = await readAll(c, redis.pipeline().hgetall(key), 'Profiles')
 */
export async function readAll(
  c: Context<HonoEnv>,
  pipeline: ChainableCommander,
  what: string,
): Promise<unknown[]> {
  try {
    return ((await pipeline.exec()) ?? []).map(([error, reply]) => {
      if (error) {
        throw error
      }
      return reply
    })
  } catch (err) {
    c.get('services').logger.warn({ err: (err as Error).message }, `${what} read failed`)
    throw new ApiError('UNAVAILABLE', `${what} are unavailable; retry after 1 s.`, {
      retryAfter: 1,
    })
  }
}

/**
 * A WITHSCORES reply as [member, score] pairs.
 * @example scored(['a', '2']) // [['a', 2]]
 */
export function scored(flat: readonly string[]): [string, number][] {
  const out: [string, number][] = []
  for (let i = 0; i + 1 < flat.length; i += 2) {
    out.push([flat[i] as string, Number(flat[i + 1])])
  }
  return out
}
