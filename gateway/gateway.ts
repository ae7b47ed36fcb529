/**
 * @module createGateway(deps): the live push role's core — WebSocket upgrades at `/v1/live`
 * (`ws` with noServer, so it attaches to any HTTP server: its own, or the api's in role `all`),
 * one Redis subscriber for every profile with a socket here, recovery from the inbox, acks,
 * heartbeat, limits and graceful close.
 *
 * Per connection, in order: upgrade checks (upgrade.ts) → subscribe to the profile's channel
 * (confirmed) → `hello` → catch up from the inbox (`?last=` → everything after it, else the
 * newest valid offer) → live offers. Live offers that arrive while catching up wait, so a
 * socket always receives its profile's offers in inbox order, each once.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Redis } from 'ioredis'
import { type RawData, type WebSocket, WebSocketServer } from 'ws'
import type { Config } from '../runtime/config'
import type { Logger } from '../runtime/logger'
import type { Metrics } from '../runtime/metrics'
import { parseOffer, readInbox } from '../streams/inbox'
import { createKeys } from '../streams/keys'
import { CLOSE, clientFrame, LIVE_LIMITS, LIVE_SUBPROTOCOL } from '../streams/live'
import { type Identity, verifyIdentityToken } from '../streams/live-token'
import { INBOX, type Offer } from '../streams/offers'
import type { EventLog } from '../streams/produce'
import { recordAck } from './acks'
import { Connection, type ConnectionHooks } from './connection'
import { createHub } from './hub'
import { createOfferSubscriber } from './on-offer-published'
import { cacheSites, type LookupSite } from './sites'
import { checkUpgrade, refuseUpgrade } from './upgrade'

export type GatewayDeps = {
  config: Config
  logger: Logger
  metrics: Metrics
  /** Commands: inbox reads, acks, event appends. */
  redis: Redis
  /** A dedicated connection, used only for SUBSCRIBE (it cannot run other commands). */
  subscriber: Redis
  /** HS256 key of identity tokens (runtime/secret-key.ts). */
  tokenKey: Uint8Array
  lookupSite: LookupSite
}

export type Gateway = {
  /** Give it every HTTP `upgrade` event; it answers paths other than /v1/live with 404. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
  /** Open connections on this process. */
  readonly connections: number
  /** Refuses new upgrades, closes every socket with 1001, then drops the subscriber. */
  close(opts?: { graceMs?: number }): Promise<void>
}

const ignore = () => {}

/** Bad frames tolerated per connection before it is closed with CLOSE.protocolViolation. */
const MAX_BAD_FRAMES = 20
/** Live offers held per connection while it catches up from the inbox. */
const MAX_PENDING = 2 * INBOX.maxLength

/** @example const gateway = createGateway(deps); server.on('upgrade', gateway.handleUpgrade) */
export function createGateway(deps: GatewayDeps): Gateway {
  const { config, logger, metrics } = deps
  const keys = createKeys(config.NUDGE_KEY_PREFIX)
  const log: EventLog = {
    keys,
    partitions: config.NUDGE_PARTITIONS,
    retentionMs: config.NUDGE_RETENTION,
    dedupWindowMs: config.NUDGE_DEDUP_WINDOW,
  }
  const siteOf = cacheSites(deps.lookupSite, config.NUDGE_SITE_CACHE_TTL)
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: LIVE_LIMITS.maxFrameBytes,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (protocols) => (protocols.has(LIVE_SUBPROTOCOL) ? LIVE_SUBPROTOCOL : false),
  })
  const hub = createHub<Connection>()
  const perIp = new Map<string, number>()
  const connOf = new WeakMap<WebSocket, Connection>()
  let closing = false

  const drop = (reason: string) => metrics.liveDrops.inc({ reason })
  const hooks: ConnectionHooks = {
    sendBufferBytes: config.NUDGE_LIVE_SEND_BUFFER,
    onSent: (type) => metrics.liveFrames.inc({ direction: 'out', type }),
    onSlow: () => drop('slow_consumer'),
  }

  const subscriber = createOfferSubscriber(deps.subscriber, keys, {
    onMessage(profileKey, json) {
      if (hub.count(profileKey) === 0) {
        return
      }
      const offer = parseOffer(json)
      if (!offer) {
        drop('invalid_offer')
        logger.warn({ profileKey }, 'published offer breaks the contract; not sent')
        return
      }
      for (const conn of hub.of(profileKey)) {
        deliverLive(conn, offer)
      }
    },
    onResubscribed() {
      logger.info('subscriber reconnected; catching every socket up from the inboxes')
      for (const conn of hub.all()) {
        enqueue(conn, () => catchUp(conn, conn.lastSent))
      }
    },
    onError(err) {
      logger.warn({ err: err.message }, 'live subscriber error')
    },
  })

  function deliverLive(conn: Connection, offer: Offer): void {
    if (conn.catchingUp) {
      conn.pending ??= []
      conn.pending.push(offer)
      if (conn.pending.length > MAX_PENDING) {
        conn.pending.shift()
        drop('pending_overflow')
      }
      return
    }
    const outcome = conn.sendOffer(offer)
    if (outcome === 'sent') {
      metrics.livePushSeconds.observe(Math.max(0, Date.now() - offer.decidedAt) / 1000)
    } else if (outcome === 'expired') {
      drop('offer_expired')
    }
  }

  /** Runs one catch-up or auth step of a connection after the previous one finished. */
  function enqueue(conn: Connection, step: () => Promise<void>): void {
    const next: Promise<void> = (conn.work ?? Promise.resolve())
      .then(step)
      .catch((err: unknown) => {
        logger.warn({ err: (err as Error).message, session: conn.session }, 'live step failed')
        conn.sendFrame({
          type: 'error',
          code: 'unavailable',
          message: 'Offers could not be read just now; reconnect with ?last= to catch up.',
        })
        conn.close(CLOSE.unavailable, 'redis unavailable')
      })
      .finally(() => {
        // Idle connections keep no settled promise around.
        if (conn.work === next) {
          conn.work = undefined
        }
      })
    conn.work = next
  }

  /**
   * Replays the inbox: after `last` when given (everything when `last` is no longer there: it was
   * trimmed, so every entry is newer), else only the newest unacknowledged valid offer.
   */
  async function catchUp(conn: Connection, last: string | undefined): Promise<void> {
    conn.catchingUp = true
    try {
      const { entries } = await readInbox(deps.redis, keys, conn.identity.profileKey)
      const now = Date.now()
      if (last !== undefined) {
        const at = entries.findIndex((e) => e.offer.id === last)
        for (const entry of entries.slice(at + 1)) {
          if (!entry.acked) {
            conn.sendOffer(entry.offer, now)
          }
        }
      } else {
        const newest = entries.filter((e) => !e.acked && e.offer.expiresAt > now).at(-1)
        if (newest) {
          conn.sendOffer(newest.offer, now)
        }
      }
    } finally {
      conn.catchingUp = false
      const pending = conn.pending
      conn.pending = undefined
      for (const offer of pending ?? []) {
        deliverLive(conn, offer)
      }
    }
  }

  function hello(conn: Connection, last: string | undefined): void {
    conn.sendFrame({
      type: 'hello',
      session: conn.session,
      profile: conn.identity.profileKey.slice(conn.identity.siteId.length + 1),
      resume: { mode: last === undefined ? 'latest' : 'after', last: last ?? null },
    })
  }

  // Socket listeners are shared by every connection (`this` is the socket): a closure per
  // connection and event would cost more than the rest of an idle connection's state.
  function onPong(this: WebSocket): void {
    const conn = connOf.get(this)
    if (conn) {
      conn.alive = true
    }
  }
  function onSocketError(this: WebSocket, err: Error): void {
    logger.debug({ err: err.message, session: connOf.get(this)?.session }, 'socket error')
  }
  function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    const conn = connOf.get(this)
    if (conn) {
      onFrame(conn, data, isBinary)
    }
  }
  function onClose(this: WebSocket, code: number): void {
    const conn = connOf.get(this)
    if (!conn) {
      return
    }
    connOf.delete(this)
    if (code === 1009) {
      drop('frame_too_large')
    }
    hub.remove(conn.identity.profileKey, conn)
    subscriber.release(conn.subscribed)
    const count = (perIp.get(conn.ip) ?? 1) - 1
    if (count <= 0) {
      perIp.delete(conn.ip)
    } else {
      perIp.set(conn.ip, count)
    }
    metrics.liveConnections.dec()
  }

  function onConnection(ws: WebSocket, identity: Identity, ip: string, last: string | undefined) {
    const conn = new Connection(ws, { session: randomUUID(), ip, identity }, hooks)
    conn.catchingUp = true
    connOf.set(ws, conn)
    hub.add(identity.profileKey, conn)
    perIp.set(ip, (perIp.get(ip) ?? 0) + 1)
    metrics.liveConnections.inc()
    const ready = subscriber.acquire(identity.profileKey)
    ws.on('pong', onPong)
    ws.on('error', onSocketError)
    ws.on('message', onMessage)
    ws.on('close', onClose)
    enqueue(conn, async () => {
      await ready
      hello(conn, last)
      await catchUp(conn, last)
    })
  }

  /** Moves a socket to another profile of the same site (login mid-page). */
  async function switchTo(conn: Connection, next: Identity): Promise<void> {
    if (next.profileKey === conn.identity.profileKey) {
      conn.identity = next
      hello(conn, conn.lastSent)
      return
    }
    if (hub.count(next.profileKey) >= config.NUDGE_LIVE_MAX_PER_PROFILE) {
      conn.sendFrame({
        type: 'error',
        code: 'auth_rejected',
        message: `That shopper holds ${config.NUDGE_LIVE_MAX_PER_PROFILE} connections already (NUDGE_LIVE_MAX_PER_PROFILE).`,
      })
      return
    }
    const previous = conn.subscribed
    hub.remove(conn.identity.profileKey, conn)
    conn.identity = next
    conn.pending = undefined
    hub.add(next.profileKey, conn)
    conn.subscribed = next.profileKey
    conn.catchingUp = true
    try {
      await subscriber.acquire(next.profileKey)
    } finally {
      subscriber.release(previous)
    }
    hello(conn, undefined)
    await catchUp(conn, undefined)
  }

  function onFrame(conn: Connection, data: RawData, isBinary: boolean): void {
    if (conn.ws.readyState !== conn.ws.OPEN) {
      return
    }
    let frame: ReturnType<typeof clientFrame.safeParse>
    try {
      frame = clientFrame.safeParse(isBinary ? undefined : JSON.parse(String(data)))
    } catch {
      frame = clientFrame.safeParse(undefined)
    }
    if (!frame.success) {
      metrics.liveFrames.inc({ direction: 'in', type: 'invalid' })
      conn.badFrames += 1
      if (conn.badFrames > MAX_BAD_FRAMES) {
        drop('protocol_violation')
        conn.close(CLOSE.protocolViolation, 'too many invalid frames')
        return
      }
      const issue = frame.error.issues[0]
      conn.sendFrame({
        type: 'error',
        code: 'bad_frame',
        message: `Expected a JSON text frame {type: "ack"|"resume"|"auth", …}${issue ? `; ${issue.path.join('.') || 'frame'}: ${issue.message}` : ''}.`,
      })
      return
    }
    const parsed = frame.data
    metrics.liveFrames.inc({ direction: 'in', type: parsed.type })
    if (parsed.type === 'ack') {
      conn.acks += 1
      if (conn.acks > LIVE_LIMITS.acksPerHeartbeat) {
        drop('ack_rate')
        conn.sendFrame({
          type: 'error',
          code: 'rate_limited',
          message: `More than ${LIVE_LIMITS.acksPerHeartbeat} acks in one heartbeat interval; ack ${parsed.id} ignored, send it again later.`,
        })
        return
      }
      recordAck({ redis: deps.redis, log }, conn.identity, parsed.id, parsed.outcome).then(
        (result) => {
          if (result === 'unknown_offer') {
            conn.sendFrame({
              type: 'error',
              code: 'unknown_offer',
              message: `Offer ${parsed.id} is not in this shopper's inbox (never sent here, or expired); ack ignored.`,
            })
          }
        },
        (err: unknown) => {
          logger.warn({ err: (err as Error).message }, 'ack not recorded')
          conn.sendFrame({
            type: 'error',
            code: 'unavailable',
            message: `Ack of ${parsed.id} was not recorded; send it again.`,
          })
        },
      )
      return
    }
    if (parsed.type === 'resume') {
      enqueue(conn, () => catchUp(conn, parsed.last))
      return
    }
    enqueue(conn, async () => {
      const next = await verifyIdentityToken(deps.tokenKey, parsed.token)
      if ('reason' in next) {
        conn.sendFrame({
          type: 'error',
          code: 'auth_rejected',
          message: `The new token is ${next.reason}; the socket stays on its current profile.`,
        })
        return
      }
      if (next.siteId !== conn.identity.siteId) {
        conn.sendFrame({
          type: 'error',
          code: 'auth_rejected',
          message: 'The new token is for another site; open a new connection for it.',
        })
        return
      }
      await switchTo(conn, next)
    })
  }

  /** Closes the sockets of sites that no longer exist (looked up through the site cache). */
  async function closeGoneSites(): Promise<void> {
    const siteIds = new Set<string>()
    for (const conn of hub.all()) {
      siteIds.add(conn.identity.siteId)
    }
    for (const siteId of siteIds) {
      const site = await siteOf(siteId).catch(() => 'unknown' as const)
      if (site !== undefined) {
        continue
      }
      for (const conn of hub.all()) {
        if (conn.identity.siteId === siteId) {
          drop('site_gone')
          conn.close(CLOSE.siteGone, 'site no longer exists')
        }
      }
    }
  }

  const heartbeat = setInterval(() => {
    const now = Date.now()
    void closeGoneSites()
    for (const conn of hub.all()) {
      conn.acks = 0
      if (conn.identity.expiresAt <= now) {
        drop('token_expired')
        conn.close(CLOSE.tokenInvalid, 'token expired; reconnect with a new token')
      } else if (!conn.alive) {
        drop('dead_peer')
        conn.ws.terminate()
      } else {
        conn.alive = false
        conn.ws.ping()
      }
    }
  }, config.NUDGE_LIVE_HEARTBEAT)
  heartbeat.unref()

  return {
    handleUpgrade(req, socket, head) {
      // A shared no-op: a closure made here would keep this request (headers, buffers) alive
      // for as long as the socket lives.
      socket.on('error', ignore)
      if (closing) {
        refuseUpgrade(socket, {
          status: 503,
          reason: 'shutting_down',
          message: 'This gateway is shutting down; connect again.',
        })
        return
      }
      checkUpgrade(req, {
        tokenKey: deps.tokenKey,
        siteOf,
        trustProxy: config.NUDGE_TRUST_PROXY,
        connectionsFrom: (ip) => perIp.get(ip) ?? 0,
        connectionsOf: (profileKey) => hub.count(profileKey),
        maxPerIp: config.NUDGE_LIVE_MAX_PER_IP,
        maxPerProfile: config.NUDGE_LIVE_MAX_PER_PROFILE,
      }).then(
        (checked) => {
          if ('status' in checked) {
            drop(checked.reason)
            refuseUpgrade(socket, checked)
            return
          }
          if (socket.destroyed) {
            return
          }
          wss.handleUpgrade(req, socket, head, (ws) =>
            onConnection(ws, checked.identity, checked.ip, checked.last),
          )
        },
        (err: unknown) => {
          logger.error({ err }, 'upgrade check failed')
          socket.destroy()
        },
      )
    },
    get connections() {
      return hub.size
    },
    async close(opts = {}) {
      closing = true
      clearInterval(heartbeat)
      for (const conn of hub.all()) {
        conn.close(CLOSE.goingAway, 'gateway shutting down; reconnect with jitter')
      }
      const deadline = Date.now() + (opts.graceMs ?? 3_000)
      while (hub.size > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20))
      }
      for (const conn of hub.all()) {
        conn.ws.terminate()
      }
      await subscriber.close()
    },
  }
}
