/**
 * @module Every Redis key, stream, channel and consumer-group name Nudge uses.
 *
 * DO NOT RENAME ANYTHING HERE. Keys are data: a renamed stream or group strands every entry
 * written under the old name, and a renamed dedup set lets retried events count twice. Add
 * new names; migrate old ones deliberately.
 *
 * Hash tags (`{…}`) put each partition's keys in one Redis Cluster slot, so a Lua script may
 * touch the stream and its dedup sets together.
 */

/** Key builders bound to one prefix (configurable per install and unique per test). */
export type Keys = ReturnType<typeof createKeys>

/**
 * @example const keys = createKeys('nudge:'); keys.events(3) // 'nudge:events:{3}'
 */
export function createKeys(prefix: string) {
  return {
    prefix,
    /** The event log partition p (0..P-1). */
    events: (partition: number) => `${prefix}events:{${partition}}`,
    /** Entries a consumer group gave up on after N attempts, per source stream. */
    deadLetter: (stream: string) => `${stream}:dead`,
    /** Ids seen by ingest in one dedup time bucket of partition p (same slot as the stream). */
    seen: (partition: number, bucket: number) => `${prefix}seen:{${partition}}:${bucket}`,
    /** Token buckets of one site: the site-wide one and one per client IP, in one slot. */
    rateSite: (siteId: string) => `${prefix}rate:{${siteId}}`,
    rateIp: (siteId: string, ip: string) => `${prefix}rate:{${siteId}}:ip:${ip}`,
  }
}

/** Consumer-group names. Renaming one makes its consumers start over from the group's start. */
export const GROUPS = {
  /** The pump that moves events from the log into the processing queue. */
  pipeline: 'pipeline',
} as const
