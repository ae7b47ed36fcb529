/**
 * @module The workers' Lua scripts, read once and defined as commands on a client. Each file's
 * header documents its KEYS, ARGV and reply; the number in its name is its key count (a name
 * without one takes a varying number of keys, passed first).
 */
import { readFileSync } from 'node:fs'
import type { Redis } from 'ioredis'

const read = (name: string) => readFileSync(new URL(`./${name}`, import.meta.url), 'utf8')

const SCRIPTS = {
  nudgeApplyEvents: { numberOfKeys: 7, lua: read('apply-events-7.lua') },
  nudgeMergeProfile: { numberOfKeys: 6, lua: read('merge-profile-6.lua') },
  nudgeRecItem: { numberOfKeys: 2, lua: read('rec-item-2.lua') },
  // Its key count varies (one key per set): the caller passes it first.
  nudgeTrending: { lua: read('trending-sets.lua') },
  nudgeSetRecs: { numberOfKeys: 1, lua: read('set-recs-1.lua') },
  nudgeReadHistory: { numberOfKeys: 3, lua: read('read-history-3.lua') },
  nudgeTrendingRebase: { numberOfKeys: 2, lua: read('trending-rebase-2.lua') },
  nudgeDecide: { numberOfKeys: 5, lua: read('decide-5.lua') },
  nudgeBudget: { numberOfKeys: 1, lua: read('budget-1.lua') },
} as const

/** A client (or pipeline) with the workers' scripts as commands. */
export type ScriptClient = Redis & {
  nudgeApplyEvents(...keysAndArgs: (string | number)[]): Promise<number>
  nudgeMergeProfile(...keysAndArgs: (string | number)[]): Promise<number>
  nudgeRecItem(...keysAndArgs: (string | number)[]): Promise<number>
  nudgeTrending(...keysAndArgs: (string | number)[]): Promise<number[]>
  nudgeTrendingRebase(...keysAndArgs: (string | number)[]): Promise<number>
  nudgeSetRecs(...keysAndArgs: (string | number)[]): Promise<number>
  nudgeReadHistory(...keysAndArgs: (string | number)[]): Promise<[string[], string[], string[]]>
  nudgeDecide(...keysAndArgs: (string | number)[]): Promise<[string, string]>
  nudgeBudget(...keysAndArgs: (string | number)[]): Promise<number>
}

/**
 * Defines the scripts on `redis` (once per client) and returns it typed.
 * @example const client = withScripts(redis); await client.nudgeApplyEvents(...)
 */
export function withScripts(redis: Redis): ScriptClient {
  const client = redis as ScriptClient
  if (typeof client.nudgeApplyEvents !== 'function') {
    for (const [name, definition] of Object.entries(SCRIPTS)) {
      redis.defineCommand(name, definition)
    }
  }
  return client
}
