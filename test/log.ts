/** @module Reading the event log back in tests: every stored event across all partitions. */
import type { Redis } from 'ioredis'
import type { StoredEvent } from '../streams/events'
import { createKeys } from '../streams/keys'

/** All events in the log under `prefix`, with the partition that holds each. */
export async function readLog(
  redis: Redis,
  prefix: string,
  partitions: number,
): Promise<(StoredEvent & { partition: number })[]> {
  const keys = createKeys(prefix)
  const out: (StoredEvent & { partition: number })[] = []
  for (let p = 0; p < partitions; p++) {
    for (const [, fields] of await redis.xrange(keys.events(p), '-', '+')) {
      for (let i = 1; i < fields.length; i += 2) {
        out.push({ ...(JSON.parse(fields[i] as string) as StoredEvent), partition: p })
      }
    }
  }
  return out
}
