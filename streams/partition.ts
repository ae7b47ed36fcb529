/**
 * @module Stable partitioning: one shopper's events always land in the same `events:{p}`, so
 * they stay in order. The hash is FNV-1a (32 bit) over the UTF-16 code units of the profile
 * key: fast, dependency-free and identical in every process and version. Changing it (or P)
 * moves shoppers to other partitions; do so only with a drained log.
 */

/**
 * The profile key an event counts for, scoped by site so two stores never share a profile:
 * the proven userId (`u:`) when there is one, else the anonymousId (`a:`), else the claimed but
 * unproven userId (`c:`, e.g. a server client sending with the public write key), which is
 * kept apart from the real user's profile so nobody can write into it without proof.
 * @example profileKey('sit_1', { userId: 'u42', verified: true }) // 'sit_1:u:u42'
 */
export function profileKey(
  siteId: string,
  who: { anonymousId?: string | undefined; userId?: string | undefined; verified: boolean },
): string {
  if (who.verified && who.userId !== undefined) {
    return `${siteId}:u:${who.userId}`
  }
  if (who.anonymousId !== undefined) {
    return `${siteId}:a:${who.anonymousId}`
  }
  return `${siteId}:c:${who.userId ?? ''}`
}

/**
 * Partition number in 0..partitions-1 for a profile key.
 * @example partitionOf('sit_1:a:abc', 8) // always the same number for the same key
 */
export function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0) % partitions
}
