/**
 * @module The persistent event queue: events wait here from `track` until the api has answered
 * for them, so a reload, a crash or an offline spell loses nothing.
 *
 * Several tabs of one store share localStorage, so each page instance owns its own key
 * (`nudge_q.<instance>`) and is the only writer of it: tabs never overwrite each other's events
 * and never send each other's events. The key carries a heartbeat; an instance that is gone
 * (the page was closed or reloaded: `release()` on pagehide zeroes the heartbeat; or it crashed:
 * the heartbeat is older than LEASE_MS) leaves an orphan, which the next live instance adopts
 * into its own queue. Adoption takes a claim key, waits, and proceeds only if the claim is still
 * its own, so two tabs do not adopt (and send) the same orphan; the server's dedup by event id
 * covers the rare race that remains.
 *
 * Writes: within SAVE_DELAY_MS (25 ms) of an event, coalesced, so a burst of events costs one
 * write; at once on release (pagehide) and adoption. A browser crash in those 25 ms can lose
 * the events of that burst that were not sent yet.
 *
 * Limits: MAX_EVENTS events (oldest dropped first, as Snowplow does) and MAX_BYTES of JSON per
 * instance, so Nudge never fills the site's storage quota.
 */
import { ls } from './storage'

export const MAX_EVENTS = 1_000
export const MAX_BYTES = 512 * 1024
/**
 * The Web Locks API where the browser has it (Chromium, Firefox 96+, Safari 15.4+): an
 * exclusive lock per orphan, arbitrated by the browser itself. The claim-key protocol below is
 * the fallback; it cannot rule out two tabs adopting at once, because tabs see each other's
 * localStorage writes late.
 */
function webLocks(): LockManager | undefined {
  try {
    return typeof navigator !== 'undefined' && navigator.locks ? navigator.locks : undefined
  } catch {
    return undefined
  }
}

/** An instance whose heartbeat is older than this is gone; its queue may be adopted. */
export const LEASE_MS = 15_000
const PREFIX = 'nudge_q.'
const CLAIM = 'nudge_claim.'
const CLAIM_WAIT_MS = 60
/**
 * How long an adopting tab keeps the orphan's lock after removing it: a background tab was seen
 * to read the removed queue more than half a second later (see adopt).
 */
const LOCK_HOLD_MS = 2_000
/** Longest an event waits in memory before it is written to localStorage. */
const SAVE_DELAY_MS = 25

/** An event as queued: the wire form plus the time it was handed to an unload request. */
export type QueuedEvent = { id: string; [field: string]: unknown }

type Stored = { h: number; e: QueuedEvent[] }

export type Queue = {
  readonly events: readonly QueuedEvent[]
  push(event: QueuedEvent): void
  /** Removes the events with these ids (the api answered for them). */
  remove(ids: ReadonlySet<string>): void
  /**
   * False (and the queue emptied) when another tab adopted this one's events while its timers
   * were throttled in the background: those events are that tab's to send now.
   */
  owned(): boolean
  /** Refreshes the heartbeat (call at least every LEASE_MS / 3 while the page lives). */
  beat(): void
  /** Marks this instance gone, so the next page adopts what is left at once. */
  release(): void
  /** Takes over the queue again after a bfcache restore (pagehide released it). */
  reclaim(): void
  /** Moves orphaned queues of gone instances into this one; resolves with how many events. */
  adopt(): Promise<number>
}

function parse(raw: string | null): Stored | undefined {
  if (!raw) {
    return undefined
  }
  try {
    const value = JSON.parse(raw) as Stored
    return Array.isArray(value.e) ? value : undefined
  } catch {
    return undefined
  }
}

/**
 * @example const queue = createQueue(newId()); queue.push(event)
 */
export function createQueue(instance: string, opts: { onDrop?: (n: number) => void } = {}): Queue {
  const key = PREFIX + instance
  let events: QueuedEvent[] = []
  let released = false
  /** False when the last write reached memory only (quota, blocked storage). */
  let stored = false

  /** When this instance last wrote its heartbeat. */
  let savedAt = 0

  /**
   * True (and the events forgotten) when another tab adopted them since the last write. Only
   * a released queue or one whose heartbeat aged past the lease can have been adopted, so the
   * (costly, for a big queue) read is skipped otherwise.
   */
  const adoptedAway = () => {
    const mayBeAdopted = released || Date.now() - savedAt > LEASE_MS / 2
    if (mayBeAdopted && events.length > 0 && stored && ls.get(key) === null) {
      events = []
      stored = false
      return true
    }
    return false
  }

  const save = () => {
    if (adoptedAway()) {
      return
    }
    let json = JSON.stringify({ h: released ? 0 : Date.now(), e: events })
    let dropped = 0
    // Over the byte bound: drop the oldest events until the queue fits.
    while (json.length > MAX_BYTES && events.length > 0) {
      const cut = Math.max(1, Math.ceil(events.length / 10))
      events = events.slice(cut)
      dropped += cut
      json = JSON.stringify({ h: released ? 0 : Date.now(), e: events })
    }
    if (dropped > 0) {
      opts.onDrop?.(dropped)
    }
    if (events.length === 0) {
      ls.remove(key)
      stored = false
    } else {
      stored = ls.set(key, json)
      savedAt = Date.now()
    }
  }

  let saveTimer: ReturnType<typeof setTimeout> | undefined
  /**
   * Writes within SAVE_DELAY_MS of each other become one: a burst of events (a page of tiles
   * coming into view) rewrites the queue once, not once per event.
   */
  const saveSoon = () => {
    saveTimer ??= setTimeout(saveNow, SAVE_DELAY_MS)
  }
  const saveNow = () => {
    clearTimeout(saveTimer)
    saveTimer = undefined
    save()
  }

  const append = (more: QueuedEvent[], fresh?: boolean) => {
    // Never write adopted events back: the adopting tab sends them now.
    adoptedAway()
    // A pushed event has a new id; only adopted ones can already be here. No set of every id
    // per push, then: a burst of n events would build n of them.
    const known = fresh ? undefined : new Set(events.map((e) => e.id))
    for (const e of more) {
      if (!known?.has(e.id)) {
        events.push(e)
        known?.add(e.id)
      }
    }
    if (events.length > MAX_EVENTS) {
      opts.onDrop?.(events.length - MAX_EVENTS)
      events = events.slice(events.length - MAX_EVENTS)
    }
    saveSoon()
  }

  return {
    get events() {
      return events
    },
    push(event) {
      append([event], true)
    },
    remove(ids) {
      const before = events.length
      events = events.filter((e) => !ids.has(e.id))
      if (events.length !== before) {
        saveSoon()
      }
    },
    owned() {
      return !adoptedAway()
    },
    beat() {
      if (!released && events.length > 0) {
        saveNow()
      }
    },
    release() {
      released = true
      saveNow()
    },
    reclaim() {
      released = false
      // Another tab may have adopted the queue while this page sat in the bfcache.
      events = parse(ls.get(key))?.e ?? []
      saveNow()
    },
    async adopt() {
      const now = Date.now()
      let adopted = 0
      for (const other of ls.keys(PREFIX)) {
        if (other === key) {
          continue
        }
        const orphan = parse(ls.get(other))
        if (!orphan) {
          ls.remove(other)
          continue
        }
        if (orphan.h > now - LEASE_MS) {
          continue
        }
        const locks = webLocks()
        if (locks) {
          adopted += await locks.request(
            `nudge_adopt.${other}`,
            { ifAvailable: true },
            async (lock) => {
              // Another tab holds it: that tab is adopting this orphan right now.
              if (!lock) {
                return 0
              }
              const still = parse(ls.get(other))
              if (!still || still.h > Date.now() - LEASE_MS) {
                return 0
              }
              append(still.e)
              saveNow()
              ls.remove(other)
              // Keep the lock while the removal reaches the other tabs: their view of
              // localStorage lags, and one asking now would still see the orphan.
              await new Promise((r) => setTimeout(r, LOCK_HOLD_MS))
              return still.e.length
            },
          )
          continue
        }
        const claimKey = CLAIM + other.slice(PREFIX.length)
        const claim = ls.get(claimKey)
        if (claim && Number(claim.split(' ')[1]) > now - LEASE_MS) {
          continue
        }
        const mine = `${instance} ${now}`
        ls.set(claimKey, mine)
        await new Promise((r) => setTimeout(r, CLAIM_WAIT_MS))
        if (ls.get(claimKey) !== mine) {
          continue
        }
        // Re-read after the wait: only what is still there now is ours to send.
        const still = parse(ls.get(other))
        if (still && still.h <= now - LEASE_MS) {
          append(still.e)
          // Written under this instance's key before the orphan's key goes.
          saveNow()
          adopted += still.e.length
          ls.remove(other)
        }
        ls.remove(claimKey)
      }
      return adopted
    },
  }
}
