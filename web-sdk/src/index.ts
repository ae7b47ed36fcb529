/**
 * @module The bundle's entry (served as `/sdk.js`): replaces the snippet's stub `window.nudge`
 * with the real one and replays the calls the stub queued, each with the page context it
 * recorded. The public surface is `window.nudge` — callable as `nudge('track', …)` or
 * `nudge.track(…)` — with init, track, identify, page, reset, consent, onOffer and ready.
 * Nothing else is exported. Loading the bundle twice is harmless: the second copy does nothing.
 */
import { type CallContext, createClient } from './client'

type Stub = ((...args: unknown[]) => unknown) & {
  q?: [unknown[], CallContext?][]
  loaded?: boolean
  [method: string]: unknown
}

const METHODS = ['init', 'track', 'identify', 'page', 'reset', 'consent', 'onOffer', 'ready']

function scriptOrigin(): string {
  try {
    const src = (document.currentScript as HTMLScriptElement | null)?.src
    return src ? new URL(src).origin : location.origin
  } catch {
    return location.origin
  }
}

function install(): void {
  const w = window as unknown as { nudge?: Stub }
  const stub = w.nudge
  if (stub?.loaded) {
    return
  }
  const client = createClient(scriptOrigin())
  const nudge = ((method: unknown, ...args: unknown[]) => client.call(String(method), args)) as Stub
  for (const m of METHODS) {
    nudge[m] = (...args: unknown[]) => client.call(m, args)
  }
  nudge.loaded = true
  w.nudge = nudge
  for (const [args, ctx] of stub?.q ?? []) {
    const [method, ...rest] = args
    client.call(String(method), rest, ctx)
  }
}

try {
  install()
} catch {
  // Never break the page: without Nudge the store works as before.
}
