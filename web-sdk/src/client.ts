/**
 * @module The SDK's state machine behind `window.nudge`: init, track, identify, page, reset,
 * consent, onOffer, ready. Every call is caught here: whatever fails inside Nudge, the page
 * never sees an exception, and with the Nudge server down the page works as without it.
 *
 * Calls may carry the page context of the moment they were made (the snippet records it while
 * the bundle is loading), so a replayed `track` keeps its own url and time.
 */
import { startAutotrack } from './autotrack'
import { createDelivery, type Delivery } from './delivery'
import { createIdentity, type Identity, newId } from './identity'
import { createQueue, LEASE_MS, type Queue, type QueuedEvent } from './queue'
import { type Offer, type OfferOutcome, renderOffer } from './render-offer'
import { type Live, startLive } from './socket'
import { ls } from './storage'
import { REFRESH_BEFORE_MS, requestToken, type Token } from './token'

export type InitOptions = {
  writeKey: string
  /** Where Nudge runs; defaults to the origin `/sdk.js` was loaded from. */
  host?: string
  /** Hold everything in memory, send and store nothing, until `consent(true)`. */
  requireConsent?: boolean
  /** Send when this many events wait (default 20). */
  flushAt?: number
  /** …or this many ms after the first waiting event (default 2000). */
  flushInterval?: number
  /** Longest wait between retries, in ms (default 30000). */
  maxRetryDelay?: number
  /** Track tagged products' views and clicks (default true). */
  autotrack?: boolean
  /** Open the live socket and show offers (default true). */
  live?: boolean
  /**
   * When the browser has no stored id, ask the server's first-party cookie for the one it had
   * (default false). Turn it on when Nudge is served under the store's own domain
   * (nudge.shop.example): that cookie outlives Safari's 7-day limit on script-set storage. It
   * costs one request on a browser's first page, and its events wait up to 1.5 s for the answer.
   */
  restoreId?: boolean
  /** Log what Nudge drops and why to the console (default false). */
  debug?: boolean
}

/** The page at the moment of a call: the snippet records it for calls made before load. */
export type CallContext = { url: string; referrer: string; title: string; ts: number }

/** Events kept while consent is pending: enough for a page or two, never a backlog. */
export const HELD_MAX = 100
/** The longest events wait for the server to say which anonymousId this browser had. */
const RESTORE_WAIT_MS = 1_500
const EARLY_MAX = 100
/** Offer ids already handled on this browser, so a replayed offer is never shown twice. */
const SEEN = 'nudge_seen_offers'
const SEEN_MAX = 50

/** `onOffer` callbacks get the offer and an `ack`; returning false suppresses the default toast. */
export type OfferCallback = (
  offer: Offer,
  ack: (outcome: OfferOutcome) => void,
) => boolean | undefined

/** Event types of the v1 contract (streams/events); any other name becomes a Custom event. */
const NATIVE = new Set([
  'UserLoggedIn',
  'UserLoggedOut',
  'PageViewed',
  'ProductViewed',
  'ClickedProduct',
  'AddedToCart',
  'RemovedFromCart',
  'CheckoutStarted',
  'OrderCompleted',
  'SearchPerformed',
  'Custom',
])

type Props = Record<string, unknown>

let browser: Props | undefined

/**
 * What stays the same for every event of the page, read once. No `timezone`: asking Intl for
 * it costs ~15 ms of main thread on a page's first call, and rules use the site's time zone.
 */
function browserContext(): Props {
  browser ??= {
    userAgent: navigator.userAgent.slice(0, 512),
    locale: navigator.language.slice(0, 35),
  }
  return browser
}

function objectOr(value: unknown): Props {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Props)
    : {}
}

export function here(): CallContext {
  return { url: location.href, referrer: document.referrer, title: document.title, ts: Date.now() }
}

type Started = {
  opts: InitOptions
  host: string
  identity: Identity
  consent: 'pending' | 'granted' | 'denied'
  held: QueuedEvent[]
  /** Events wait (in `held`) while the server is asked which anonymousId this browser had. */
  restoring?: boolean
  queue?: Queue
  delivery?: Delivery
  /** The token for the current identity (user-bound after a proven identify). */
  token?: Promise<Token | undefined>
  live?: Live
}

/**
 * @example const client = createClient(scriptOrigin); client.call('init', [{ writeKey }])
 */
export function createClient(defaultHost: string) {
  let s: Started | undefined
  const early: [string, unknown[], CallContext][] = []
  const readyWaiters: (() => void)[] = []
  const offerCallbacks: OfferCallback[] = []
  let debug = false
  let renewTimer: ReturnType<typeof setTimeout> | undefined

  const log = (message: string, detail?: unknown) => {
    if (debug) {
      console.warn(`[nudge] ${message}`, detail ?? '')
    }
  }

  function build(type: string, props: Props, ctx: CallContext): QueuedEvent | undefined {
    if (!s || typeof type !== 'string' || type === '') {
      return undefined
    }
    const { identity } = s
    const native = NATIVE.has(type)
    const user = identity.user()
    const context: Props = { url: ctx.url.slice(0, 2048), ...browserContext() }
    if (ctx.referrer) {
      context.referrer = ctx.referrer.slice(0, 2048)
    }
    const event: QueuedEvent = {
      id: newId(),
      type: native ? type : 'Custom',
      v: 1,
      anonymousId: identity.anonymousId,
      sessionId: identity.sessionId(ctx.ts),
      ts: ctx.ts,
      context,
      props: native ? { ...props } : { name: type.slice(0, 256), properties: { ...props } },
    }
    if (user) {
      event.userId = user.userId
    }
    return event
  }

  function emit(event: QueuedEvent | undefined): void {
    if (!s || !event) {
      return
    }
    if (s.consent === 'denied') {
      log('consent denied: event dropped', event)
    } else if (s.consent === 'pending') {
      s.held.push(event)
      if (s.held.length > HELD_MAX) {
        s.held.shift()
        log(`over ${HELD_MAX} events held before consent: oldest dropped`)
      }
    } else if (s.restoring) {
      s.held.push(event)
    } else {
      s.delivery?.add(event)
    }
  }

  /** Storage and sending start here: at init without requireConsent, else at consent(true). */
  function startDelivery(st: Started): void {
    if (st.delivery) {
      return
    }
    st.identity.persist()
    const queue = createQueue(newId(), {
      onDrop: (n) => log(`queue full: ${n} oldest events dropped`),
    })
    const delivery = createDelivery({
      url: `${st.host}/v1/events`,
      queue,
      envelope: () => {
        const user = st.identity.user()
        return user?.token && user.tokenExp && user.tokenExp > Date.now()
          ? { writeKey: st.opts.writeKey, token: user.token }
          : { writeKey: st.opts.writeKey }
      },
      onTokenError: (reason) => {
        log(`token refused (${reason}): fetching a new one`)
        renewToken(st)
      },
      flushAt: st.opts.flushAt ?? 20,
      flushInterval: st.opts.flushInterval ?? 2_000,
      maxRetryDelay: st.opts.maxRetryDelay ?? 30_000,
      log,
    })
    st.queue = queue
    st.delivery = delivery
    if (st.identity.fresh && st.opts.restoreId === true) {
      // No stored id: the server's first-party cookie may remember this browser. Events wait
      // for its answer (at most RESTORE_WAIT_MS), then go with whichever id won.
      st.restoring = true
      const freshId = st.identity.anonymousId
      const release = () => {
        if (!st.restoring) {
          return
        }
        st.restoring = false
        for (const e of st.held.splice(0)) {
          if (e.anonymousId === freshId) {
            e.anonymousId = st.identity.anonymousId
          }
          delivery.add(e)
        }
      }
      setTimeout(release, RESTORE_WAIT_MS)
      renewToken(st, true).finally(release)
    }
    const adopt = () =>
      queue.adopt().then((n) => {
        if (n > 0) {
          log(`sending ${n} events left by an earlier page`)
          delivery.flush()
        }
      })
    adopt()
    // Heartbeat, and adoption of queues left by tabs that crashed (no pagehide to release them).
    setInterval(() => {
      queue.beat()
      adopt()
    }, LEASE_MS / 3)
    addEventListener('pagehide', () => {
      delivery.hide()
      queue.release()
    })
    addEventListener('pageshow', (e) => {
      if ((e as PageTransitionEvent).persisted) {
        queue.reclaim()
        delivery.show()
        delivery.flush()
      }
    })
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') {
        delivery.hide()
      } else {
        delivery.show()
      }
    })
    addEventListener('online', () => delivery.retryNow())
    if (st.opts.live !== false && typeof WebSocket === 'function') {
      currentToken(st).then((t) => {
        if (t && !st.live) {
          st.live = startLive({
            host: st.host,
            token: t.token,
            refresh: () => renewToken(st).then((fresh) => fresh?.token),
            onOffer: (offer) => showOffer(st, offer),
            log,
          })
        }
      })
    }
  }

  /**
   * A token for who the shopper is now: user-bound when identify proved it, else anonymous.
   * Renewed REFRESH_BEFORE_MS before it expires, and handed to the live socket each time (an
   * `auth` frame extends the connection, which the gateway closes when its token expires).
   */
  function renewToken(st: Started, restore = false): Promise<Token | undefined> {
    const user = st.identity.user()
    const anonymousId = st.identity.anonymousId
    const ask = { writeKey: st.opts.writeKey, anonymousId, ...(restore && { restore }) }
    clearTimeout(renewTimer)
    st.token = requestToken(
      st.host,
      user?.userHash ? { ...ask, userId: user.userId, userHash: user.userHash } : ask,
      log,
    ).then((t) => {
      if (
        t?.anonymousId &&
        t.anonymousId !== anonymousId &&
        st.identity.fresh &&
        st.identity.anonymousId === anonymousId
      ) {
        log('anonymousId restored from the first-party cookie')
        st.identity.adopt(t.anonymousId)
      }
      // Only a token for who the shopper still is (no identify or reset meanwhile) is used.
      const current = st.identity.anonymousId
      if (
        t &&
        st.identity.user() === user &&
        (current === anonymousId || current === t.anonymousId)
      ) {
        if (user?.userHash) {
          st.identity.setUser({ ...user, token: t.token, tokenExp: t.expiresAt })
        }
        st.live?.auth(t.token)
        renewTimer = setTimeout(
          () => renewToken(st),
          Math.max(60_000, t.expiresAt - Date.now() - REFRESH_BEFORE_MS),
        )
      }
      return t
    })
    return st.token
  }

  function currentToken(st: Started): Promise<Token | undefined> {
    return (st.token ?? Promise.resolve(undefined)).then((t) =>
      t && t.expiresAt - Date.now() > REFRESH_BEFORE_MS ? t : renewToken(st),
    )
  }

  function showOffer(st: Started, offer: Offer): void {
    let seen: string[] = []
    try {
      seen = JSON.parse(ls.get(SEEN) ?? '[]')
    } catch {
      seen = []
    }
    if (seen.includes(offer.id) || (offer.expiresAt && offer.expiresAt < Date.now())) {
      return
    }
    ls.set(SEEN, JSON.stringify([...seen, offer.id].slice(-SEEN_MAX)))
    const ack = (outcome: OfferOutcome) => st.live?.ack(offer.id, outcome)
    let render = true
    for (const cb of offerCallbacks) {
      try {
        if (cb(offer, ack) === false) {
          render = false
        }
      } catch (err) {
        log('onOffer callback failed', err)
      }
    }
    if (render) {
      renderOffer(offer, ack)
    }
  }

  function init(opts: InitOptions): void {
    if (s) {
      log('init called twice: ignored')
      return
    }
    if (!opts || typeof opts.writeKey !== 'string' || opts.writeKey === '') {
      console.warn('[nudge] init needs { writeKey }')
      return
    }
    debug = opts.debug === true
    const st: Started = {
      opts,
      host: (opts.host ?? defaultHost).replace(/\/+$/, ''),
      identity: createIdentity(opts.requireConsent !== true),
      consent: opts.requireConsent ? 'pending' : 'granted',
      held: [],
    }
    s = st
    if (st.consent === 'granted') {
      startDelivery(st)
    }
    if (opts.autotrack !== false) {
      startAutotrack((type, props) => emit(build(type, props, here())))
    }
    for (const [method, args, ctx] of early.splice(0)) {
      call(method, args, ctx)
    }
    for (const resolve of readyWaiters.splice(0)) {
      resolve()
    }
  }

  function consent(granted: unknown): void {
    if (!s) {
      return
    }
    const st = s
    if (granted === true) {
      st.consent = 'granted'
      startDelivery(st)
      // Ids made in memory while pending give way to the one stored on an earlier visit.
      for (const e of st.held.splice(0)) {
        e.anonymousId = st.identity.anonymousId
        st.delivery?.add(e)
      }
    } else {
      st.consent = 'denied'
      if (st.held.length > 0) {
        log(`consent refused: ${st.held.length} held events dropped`)
      }
      st.held = []
    }
  }

  function call(method: string, args: unknown[], ctx: CallContext = here()): unknown {
    try {
      if (method === 'ready') {
        const done = new Promise<void>((resolve) => {
          if (s) {
            resolve()
          } else {
            readyWaiters.push(resolve)
          }
        })
        const cb = args[0]
        if (typeof cb === 'function') {
          done.then(() => cb())
        }
        return done
      }
      if (method === 'init') {
        init(args[0] as InitOptions)
        return undefined
      }
      if (!s) {
        if (early.length < EARLY_MAX) {
          early.push([method, args, ctx])
        }
        return undefined
      }
      switch (method) {
        case 'track':
          emit(build(args[0] as string, objectOr(args[1]), ctx))
          break
        case 'page':
          emit(
            build(
              'PageViewed',
              {
                url: ctx.url.slice(0, 2048),
                path: new URL(ctx.url).pathname.slice(0, 2048),
                title: ctx.title.slice(0, 256),
                ...objectOr(args[0]),
              },
              ctx,
            ),
          )
          break
        case 'identify':
          identify(args[0], objectOr(args[1]), ctx)
          break
        case 'reset':
          if (s.identity.user()) {
            emit(build('UserLoggedOut', {}, ctx))
            // Send it now, while the batch still carries the user's token (so it is proven).
            s.delivery?.flush()
          }
          s.identity.reset()
          if (s.live) {
            renewToken(s)
          }
          break
        case 'consent':
          consent(args[0])
          break
        case 'onOffer':
          if (typeof args[0] === 'function') {
            offerCallbacks.push(args[0] as OfferCallback)
          }
          break
        default:
          log(`unknown method ${method}`)
      }
    } catch (err) {
      log(`${method} failed`, err)
    }
    return undefined
  }

  function identify(userId: unknown, opts: Props, ctx: CallContext): void {
    const st = s
    if (!st || typeof userId !== 'string' || userId === '') {
      log('identify needs a userId')
      return
    }
    const userHash = typeof opts.userHash === 'string' ? opts.userHash : undefined
    const known = st.identity.user()
    if (known?.userId === userId && known.userHash === userHash) {
      // Stores call identify on every page: the same user again is no new login.
      return
    }
    st.identity.setUser({ userId: userId.slice(0, 128), userHash })
    const traits = opts.traits as Props | undefined
    const login = build('UserLoggedIn', traits ? { traits } : {}, ctx)
    if (!userHash || st.consent !== 'granted') {
      emit(login)
      return
    }
    // With a proof, the login goes out with the user-bound token (so it counts as proven) and
    // the live socket moves to the user's offers.
    renewToken(st).then(() => emit(login))
  }

  return { call }
}
