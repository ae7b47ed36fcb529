/**
 * @module The hub: which open connections belong to which profile, on this gateway process.
 * It knows nothing of Redis or sockets; the subscriber and the upgrade handler feed it.
 *
 * One Map, not shards: Node runs the hub on one thread, so there is no lock to spread (the
 * reason centrifuge shards its hub). Operations are O(1). A profile with one connection (the
 * common case) maps straight to it; a Set is made only for a second tab, to keep idle memory low.
 */

export type Hub<C extends object> = {
  /** Adds a connection; true when it is the profile's first here. */
  add(profileKey: string, conn: C): boolean
  /** Removes a connection; true when it was the profile's last here. */
  remove(profileKey: string, conn: C): boolean
  /** The profile's connections here (empty when none). */
  of(profileKey: string): Iterable<C>
  /** How many connections the profile has here. */
  count(profileKey: string): number
  /** Every connection here, for heartbeat and shutdown. */
  all(): IterableIterator<C>
  /** Open connections here. */
  readonly size: number
}

/** @example const hub = createHub<Connection>(); hub.add(key, conn) */
export function createHub<C extends object>(): Hub<C> {
  const byProfile = new Map<string, C | Set<C>>()
  const every = new Set<C>()
  return {
    add(profileKey, conn) {
      every.add(conn)
      const held = byProfile.get(profileKey)
      if (held === undefined) {
        byProfile.set(profileKey, conn)
        return true
      }
      if (held instanceof Set) {
        held.add(conn)
      } else if (held !== conn) {
        byProfile.set(profileKey, new Set([held, conn]))
      }
      return false
    },
    remove(profileKey, conn) {
      every.delete(conn)
      const held = byProfile.get(profileKey)
      if (held === conn) {
        byProfile.delete(profileKey)
        return true
      }
      if (!(held instanceof Set) || !held.delete(conn)) {
        return false
      }
      if (held.size === 1) {
        byProfile.set(profileKey, held.values().next().value as C)
      }
      return false
    },
    of(profileKey) {
      const held = byProfile.get(profileKey)
      return held === undefined ? [] : held instanceof Set ? held : [held]
    },
    count(profileKey) {
      const held = byProfile.get(profileKey)
      return held === undefined ? 0 : held instanceof Set ? held.size : 1
    },
    all: () => every.values(),
    get size() {
      return every.size
    },
  }
}
