/**
 * @module Who the shopper is to Nudge: an anonymousId that outlives the session (cookie and
 * localStorage, so either surviving is enough), a sessionId that ends after 30 minutes without
 * events, and the userId / token set by `identify`. Until storage is allowed (consent), ids
 * live in memory only and are written out by `persist()`.
 */
import { cookie, ls } from './storage'

const AID = 'nudge_aid'
const SID = 'nudge_sid'
const USER = 'nudge_user'
/** A session ends after this long without an event (the common analytics definition). */
const SESSION_IDLE_MS = 30 * 60_000
/** How stale the stored "last event" time of a session may get before it is written again. */
const SESSION_WRITE_MS = 60_000
const YEAR_S = 365 * 24 * 3600

/** A random id of printable ASCII (the envelope's id contract: 1–128 characters). */
export function newId(): string {
  try {
    return crypto.randomUUID()
  } catch {
    // randomUUID needs a secure context (https or localhost); fall back to getRandomValues.
    const b = crypto.getRandomValues(new Uint8Array(16))
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  }
}

/** The user a proven (or claimed) identify set: kept across pages until `reset`. */
export type User = {
  userId: string
  /** The store backend's proof, kept to renew the token on later pages. */
  userHash?: string
  token?: string
  tokenExp?: number
}

export type Identity = {
  anonymousId: string
  sessionId(now: number): string
  user(): User | undefined
  setUser(user: User | undefined): void
  /** Writes the ids to cookie and localStorage (called once storage is allowed). */
  persist(): void
  /** Forgets the user and starts a new anonymous id and session (logout). */
  reset(): void
  /**
   * True when no stored id was found when the page loaded (first visit, or storage wiped), until
   * `adopt` or `reset`: the server's first-party cookie may know the shopper (see client.ts).
   */
  readonly fresh: boolean
  /** Takes over an anonymousId the server remembered for this browser. */
  adopt(anonymousId: string): void
}

/**
 * @example const id = createIdentity(true); id.anonymousId
 */
export function createIdentity(canStore: boolean): Identity {
  let stored = canStore
  const read = (key: string) => (stored ? (cookie.get(key) ?? ls.get(key)) : null)
  const found = read(AID)
  let anonymousId = found ?? newId()
  let fresh = found === null || found === undefined
  let session: { id: string; last: number } | undefined
  try {
    session = JSON.parse(read(SID) ?? 'null') ?? undefined
  } catch {
    session = undefined
  }
  let user: User | undefined
  try {
    user = JSON.parse((stored && ls.get(USER)) || 'null') ?? undefined
  } catch {
    user = undefined
  }

  /**
   * What this page last wrote under each key: a write repeats nothing already written, so a
   * page's start-up stores the ids once rather than three times (creation, persist, first
   * session), and each cookie write is a call to the browser process.
   */
  const written: Record<string, string | null> = {}
  const put = (key: string, value: string | null, maxAgeSeconds?: number) => {
    if (written[key] !== value) {
      written[key] = value
      if (value === null) {
        ls.remove(key)
      } else {
        ls.set(key, value)
        if (maxAgeSeconds) {
          cookie.set(key, value, maxAgeSeconds)
        }
      }
    }
  }
  const write = () => {
    if (!stored) {
      return
    }
    put(AID, anonymousId, YEAR_S)
    if (session) {
      put(SID, JSON.stringify(session), SESSION_IDLE_MS / 1000)
    }
    put(USER, user ? JSON.stringify(user) : null)
  }

  const identity: Identity = {
    get anonymousId() {
      return anonymousId
    },
    get fresh() {
      return fresh
    },
    adopt(id) {
      anonymousId = id
      fresh = false
      write()
    },
    sessionId(now) {
      if (!session || now - session.last > SESSION_IDLE_MS) {
        session = { id: newId(), last: now }
        write()
      } else if (now - session.last > SESSION_WRITE_MS) {
        // Storage writes cost main-thread time: the idle clock needs minutes, not milliseconds.
        session.last = now
        write()
      }
      return session.id
    },
    user: () => user,
    setUser(next) {
      user = next
      write()
    },
    persist() {
      if (!stored) {
        stored = true
        // Keep an id the shopper already had on an earlier visit with consent.
        const kept = cookie.get(AID) ?? ls.get(AID)
        if (kept !== null && kept !== undefined) {
          anonymousId = kept
          fresh = false
        }
      }
      write()
    },
    reset() {
      fresh = false
      anonymousId = newId()
      session = undefined
      user = undefined
      write()
    },
  }
  write()
  return identity
}
