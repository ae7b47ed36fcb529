/** @module Reading ioredis pipeline replies: every reply or the first error, thrown. */
import type { ChainableCommander } from 'ioredis'

/**
 * Executes a pipeline and returns its replies in order; throws the first command error, so a
 * job fails (and is retried) rather than acting on a partial read.
 * @example const [recent, bought] = await replies(redis.pipeline().zrange(a, 0, -1).zrange(b, 0, -1))
 */
export async function replies(pipeline: ChainableCommander): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? []
  return results.map(([error, reply]) => {
    if (error) {
      throw error
    }
    return reply
  })
}

/**
 * A WITHSCORES reply as [member, score] pairs.
 * @example flatPairs(['a', '2', 'b', '1']) // [['a', 2], ['b', 1]]
 */
export function flatPairs(flat: readonly string[]): [string, number][] {
  const out: [string, number][] = []
  for (let i = 0; i + 1 < flat.length; i += 2) {
    out.push([flat[i] as string, Number(flat[i + 1])])
  }
  return out
}

/**
 * A flat HGETALL-style reply (as Lua returns it) as a record.
 * @example flatRecord(['n', '2', 'cat', 'Shoes']) // { n: '2', cat: 'Shoes' }
 */
export function flatRecord(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) {
    out[flat[i] as string] = flat[i + 1] as string
  }
  return out
}
