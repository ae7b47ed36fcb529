/**
 * @module Storage that never throws into the page: localStorage and first-party cookies, each
 * falling back to memory when the browser blocks it (Safari private mode, disabled cookies,
 * sandboxed iframes, a full quota). Callers get `false` from `set` when the value did not
 * reach durable storage, so they can say so, but the page never sees an exception.
 */

const memory = new Map<string, string>()

function local(): Storage | undefined {
  try {
    const s = window.localStorage
    const probe = '__nudge_probe'
    s.setItem(probe, '1')
    s.removeItem(probe)
    return s
  } catch {
    return undefined
  }
}

let probed = false
let cached: Storage | undefined

/**
 * localStorage, probed on first use rather than when the script loads: a page's first access
 * makes the renderer fetch the origin's storage from the browser process, which should not sit
 * on the SDK's start-up path.
 */
function storage(): Storage | undefined {
  if (!probed) {
    probed = true
    cached = local()
  }
  return cached
}

/** localStorage with a memory fallback; `set` is false when only memory holds the value. */
export const ls = {
  get(key: string): string | null {
    const store = storage()
    try {
      return store ? store.getItem(key) : (memory.get(key) ?? null)
    } catch {
      return memory.get(key) ?? null
    }
  },
  set(key: string, value: string): boolean {
    const store = storage()
    try {
      if (store) {
        store.setItem(key, value)
        return true
      }
    } catch {
      // Quota exceeded or storage revoked: keep the value in memory for this page only.
    }
    memory.set(key, value)
    return false
  },
  remove(key: string): void {
    memory.delete(key)
    try {
      storage()?.removeItem(key)
    } catch {
      // Nothing to do: the value is gone from memory, and storage refused.
    }
  },
  /** Keys starting with `prefix`, in storage (or memory when storage is blocked). */
  keys(prefix: string): string[] {
    const out: string[] = []
    const store = storage()
    try {
      if (store) {
        for (let i = 0; i < store.length; i++) {
          const k = store.key(i)
          if (k?.startsWith(prefix)) {
            out.push(k)
          }
        }
        return out
      }
    } catch {
      // Fall through to memory.
    }
    for (const k of memory.keys()) {
      if (k.startsWith(prefix)) {
        out.push(k)
      }
    }
    return out
  },
}

/**
 * First-party cookies set by script. Safari caps their lifetime at 7 days; the server-set
 * httpOnly cookie (README "Identity") is the durable answer to that, this one the fallback.
 */
export const cookie = {
  get(name: string): string | null {
    try {
      for (const part of document.cookie.split('; ')) {
        const eq = part.indexOf('=')
        if (part.slice(0, eq) === name) {
          return decodeURIComponent(part.slice(eq + 1))
        }
      }
    } catch {
      // Cookies blocked (sandboxed iframe): behave as if unset.
    }
    return null
  },
  set(name: string, value: string, maxAgeSeconds: number): void {
    try {
      const secure = location.protocol === 'https:' ? '; Secure' : ''
      // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is missing in Safari and Firefox.
      document.cookie = `${name}=${encodeURIComponent(value)}; Max-Age=${maxAgeSeconds}; Path=/; SameSite=Lax${secure}`
    } catch {
      // Cookies blocked: localStorage or memory still holds the value.
    }
  },
  remove(name: string): void {
    this.set(name, '', 0)
  },
}
