/**
 * @module Helpers for gateway tests: gateway child processes (`nudge start --role gateway`, the
 * real entry), WebSocket clients that record every frame, identity tokens and test offers —
 * against the real Redis and PostgreSQL, under the test's own key prefix and schema.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import type { Redis } from 'ioredis'
import { onTestFinished } from 'vitest'
import { WebSocket } from 'ws'
import { createSite } from '../drizzle/queries/sites'
import { newId } from '../runtime/ids'
import { createSecretBox } from '../runtime/secret-box'
import { deriveServerKeys } from '../runtime/secret-key'
import { deliverOffer } from '../streams/inbox'
import { createKeys } from '../streams/keys'
import { LIVE_PATH, LIVE_SUBPROTOCOL, type ServerFrame } from '../streams/live'
import { signIdentityToken } from '../streams/live-token'
import type { Offer } from '../streams/offers'
import { profileKey } from '../streams/partition'
import { TEST_DATABASE_URL, testDb } from './db'
import { TEST_SECRET_KEY } from './harness'
import { TEST_REDIS_URL, testRedis } from './redis'

export type LiveFixture = Awaited<ReturnType<typeof liveFixture>>

/**
 * A prefix, a schema with one site (origins http://localhost:* and https://shop.example), its
 * token key, and ways to start gateways and deliver offers.
 * @example const f = await liveFixture(); const gw = await f.startGateway()
 */
export async function liveFixture() {
  const { redis, prefix } = await testRedis()
  const { db, schema } = await testDb()
  const serverKeys = deriveServerKeys(TEST_SECRET_KEY)
  const box = createSecretBox(serverKeys.seal)
  const site = await createSite(db, {
    name: 'Live store',
    allowedOrigins: ['http://localhost:*', 'https://shop.example'],
    box,
  })
  const keys = createKeys(prefix)
  const siteId = site.site.id
  return {
    redis,
    prefix,
    db,
    schema,
    site,
    siteId,
    keys,
    serverKeys,
    box,
    /** A token as POST /v1/identity would issue it (user-bound when userId is given). */
    token: async (
      who: { anonymousId?: string; userId?: string },
      ttlMs = 600_000,
      now = Date.now(),
    ) => (await signIdentityToken(serverKeys.token, { siteId, ...who }, ttlMs, now)).token,
    profile: (who: { anonymousId?: string; userId?: string }) =>
      profileKey(siteId, { ...who, verified: who.userId !== undefined }),
    deliver: (profile: string, offer: Offer) => deliverOffer(redis, keys, profile, offer),
    startGateway: (env: Record<string, string> = {}) =>
      startGatewayProcess({
        NUDGE_KEY_PREFIX: prefix,
        DATABASE_SCHEMA: schema,
        ...env,
      }),
  }
}

export type GatewayProcess = {
  url: string
  port: number
  child: ChildProcess
  /** Everything the process wrote, for assertion messages. */
  output(): string
  stop(signal?: NodeJS.Signals): Promise<void>
}

/**
 * Starts `nudge start --role gateway` (or `all`) on a free port; killed (SIGKILL) when the test
 * ends.
 * @example const gw = await startGatewayProcess({ NUDGE_KEY_PREFIX: prefix, DATABASE_SCHEMA: schema })
 */
export async function startGatewayProcess(
  env: Record<string, string>,
  port = 0,
  role: 'gateway' | 'all' = 'gateway',
): Promise<GatewayProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bin/nudge.ts', 'start', '--role', role],
    {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: TEST_REDIS_URL,
        DATABASE_URL: TEST_DATABASE_URL,
        NUDGE_SECRET_KEY: TEST_SECRET_KEY.toString('hex'),
        NUDGE_PARTITIONS: '4',
        LOG_LEVEL: 'info',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let seen = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    seen += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    seen += chunk.toString()
  })
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
    }
  })
  const listening = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${seen}`)), 25_000)
    const check = () => {
      const match = /(?:gateway|all) listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(seen)
      if (match) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    }
    child.stdout?.on('data', check)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`gateway exited with ${code}:\n${seen}`))
    })
  })
  return {
    url: `ws://127.0.0.1:${listening}`,
    port: listening,
    child,
    output: () => seen,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) {
        return
      }
      const exited = once(child, 'exit')
      child.kill(signal)
      await exited
    },
  }
}

export type LiveClient = {
  ws: WebSocket
  frames: ServerFrame[]
  offers(): Offer[]
  /** Resolves with the first frame (already received or future) matching `ok`. */
  waitFor(ok: (frame: ServerFrame) => boolean, timeoutMs?: number): Promise<ServerFrame>
  closed: Promise<{ code: number; reason: string }>
  send(frame: unknown): void
  close(): void
}

/** What an upgrade attempt got: a client, or the HTTP status (and body) of the refusal. */
export type Attempt = { client: LiveClient } | { status: number; body: string }

/**
 * Opens `/v1/live` like a browser would (Origin header, subprotocol nudge.v1, ?token=).
 * @example const attempt = await tryConnect(gw.url, { token }); if ('client' in attempt) …
 */
export function tryConnect(
  base: string,
  opts: {
    token?: string
    last?: string
    origin?: string | null
    protocols?: string[]
    path?: string
    /** false: never answer pings, like a dead peer. */
    autoPong?: boolean
  },
): Promise<Attempt> {
  const url = new URL(opts.path ?? LIVE_PATH, base)
  if (opts.token !== undefined) {
    url.searchParams.set('token', opts.token)
  }
  if (opts.last !== undefined) {
    url.searchParams.set('last', opts.last)
  }
  const origin = opts.origin === undefined ? 'http://localhost:5173' : opts.origin
  const ws = new WebSocket(url, opts.protocols ?? [LIVE_SUBPROTOCOL], {
    ...(origin !== null && { origin }),
    autoPong: opts.autoPong ?? true,
  })
  const frames: ServerFrame[] = []
  const waiters = new Set<() => void>()
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)) as ServerFrame)
    for (const wake of waiters) {
      wake()
    }
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) }))
  })
  return new Promise<Attempt>((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString()
      })
      res.on('end', () => {
        ws.terminate()
        resolve({ status: res.statusCode ?? 0, body })
      })
    })
    ws.once('error', (err) => reject(err))
    ws.once('open', () => {
      ws.removeAllListeners('error')
      ws.on('error', () => {})
      const client: LiveClient = {
        ws,
        frames,
        offers: () => frames.flatMap((f) => (f.type === 'offer' ? [f.offer] : [])),
        waitFor(ok, timeoutMs = 5_000) {
          return new Promise((resolveFrame, rejectFrame) => {
            const check = () => {
              const found = frames.find(ok)
              if (found) {
                waiters.delete(check)
                clearTimeout(timer)
                resolveFrame(found)
              }
            }
            const timer = setTimeout(() => {
              waiters.delete(check)
              rejectFrame(
                new Error(
                  `no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames)}`,
                ),
              )
            }, timeoutMs)
            waiters.add(check)
            check()
          })
        },
        closed,
        send: (frame) => ws.send(JSON.stringify(frame)),
        close: () => ws.close(),
      }
      onTestFinished(() => ws.terminate())
      resolve({ client })
    })
  })
}

/** Connects and waits for `hello`; throws with the refusal when the upgrade is refused. */
export async function connect(
  base: string,
  opts: Parameters<typeof tryConnect>[1],
): Promise<LiveClient> {
  const attempt = await tryConnect(base, opts)
  if (!('client' in attempt)) {
    throw new Error(`upgrade refused: ${attempt.status} ${attempt.body}`)
  }
  await attempt.client.waitFor((f) => f.type === 'hello')
  return attempt.client
}

let counter = 0

/** A valid offer with a unique, time-sortable id, decided now, valid for an hour. */
export function testOffer(overrides: Partial<Offer> = {}): Offer {
  counter += 1
  const now = Date.now()
  return {
    id: newId('offer'),
    ruleId: 'rul_test',
    ruleVersion: 1,
    title: `Offer ${counter}`,
    body: 'Ten percent off shoes today.',
    cta: { label: 'Shop now', url: 'https://shop.example/shoes' },
    products: [],
    decidedAt: now,
    expiresAt: now + 3_600_000,
    ...overrides,
  }
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export type { Redis }

/**
 * A client that behaves like the SDK: on any close it reconnects after 50–250 ms of jitter,
 * to the next URL in turn, resuming from the last offer it received. Stops when told to.
 * @example const c = resilientClient([gw1.url, gw2.url], token); …; c.stop()
 */
export function resilientClient(urls: string[], token: string) {
  const received: Offer[] = []
  const closes: number[] = []
  let turn = 0
  let stopped = false
  let current: LiveClient | undefined
  let connected: () => void = () => {}
  const open = async (): Promise<void> => {
    while (!stopped) {
      const url = urls[turn % urls.length] as string
      turn += 1
      try {
        const last = received.at(-1)?.id
        const attempt = await tryConnect(url, { token, ...(last !== undefined && { last }) })
        if ('client' in attempt) {
          current = attempt.client
          attempt.client.ws.on('message', (data) => {
            const frame = JSON.parse(String(data)) as ServerFrame
            if (frame.type === 'offer') {
              received.push(frame.offer)
            }
          })
          connected()
          const { code } = await attempt.client.closed
          closes.push(code)
        }
      } catch {
        // Refused or unreachable (the node is dead): try the next one after the jitter.
      }
      await sleep(50 + Math.random() * 200)
    }
  }
  const ready = new Promise<void>((resolve) => {
    connected = resolve
  })
  void open()
  return {
    received,
    closes,
    ready,
    stop() {
      stopped = true
      current?.ws.terminate()
    },
  }
}
