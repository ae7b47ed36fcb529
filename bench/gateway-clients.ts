/**
 * @module A client process of bench:gateway: holds `--count` idle connections (clients
 * `--from` … `--from + count - 1`, each its own profile), spread round-robin over `--urls`,
 * and records decided → received latency of every offer (same machine, same clock).
 *
 * Nudge clients speak `nudge.v1` with a token per profile; Socket.IO clients use
 * socket.io-client over WebSocket only (no polling), one Manager per socket, joined to the room
 * of their profile. Prints `{ event: 'connected' }` once all are up; on IPC `{ cmd: 'reset' }`
 * clears its samples, on `{ cmd: 'report' }` prints `{ event: 'report', received, samples }`.
 */
import { parseArgs } from 'node:util'
import { io, type Socket } from 'socket.io-client'
import { WebSocket } from 'ws'
import { deriveServerKeys } from '../runtime/secret-key'
import { LIVE_PATH, LIVE_SUBPROTOCOL } from '../streams/live'
import { signIdentityToken } from '../streams/live-token'
import { BENCH_SITE, type ClientLine, SOCKETIO_EVENT } from './gateway-protocol'
import { whenParentGone } from './protocol'

const { values } = parseArgs({
  options: {
    kind: { type: 'string' },
    urls: { type: 'string' },
    from: { type: 'string', default: '0' },
    count: { type: 'string', default: '100' },
  },
})
const kind = values.kind
const urls = (values.urls ?? '').split(',').filter(Boolean)
const from = Number(values.from)
const count = Number(values.count)
/** Connections being opened at once: enough to be quick, few enough not to look like a flood. */
const OPENING = 100

const say = (line: ClientLine) => process.stdout.write(`${JSON.stringify(line)}\n`)
let received = 0
let lastAt = 0
let closed = 0
let samples: number[] = []
const sockets: (WebSocket | Socket)[] = []

const onOffer = (decidedAt: number) => {
  received += 1
  lastAt = Date.now()
  samples.push(Date.now() - decidedAt)
}

/** A Nudge client (with a token), or a bare ws client of the raw `ws` baseline (key undefined). */
async function openNudge(i: number, key: Uint8Array | undefined): Promise<void> {
  const token = key
    ? (await signIdentityToken(key, { siteId: BENCH_SITE, anonymousId: `bench-${i}` }, 3_600_000))
        .token
    : 'none'
  const url = `${urls[i % urls.length]}${LIVE_PATH}?token=${token}`
  const ws = new WebSocket(url, LIVE_SUBPROTOCOL, { perMessageDeflate: false })
  sockets.push(ws)
  ws.on('message', (data) => {
    const text = String(data)
    // Parse only offers; hello frames are skipped cheaply.
    if (text.startsWith('{"type":"offer"')) {
      onOffer((JSON.parse(text) as { offer: { decidedAt: number } }).offer.decidedAt)
    }
  })
  ws.on('close', () => {
    closed += 1
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
}

async function openSocketIo(i: number): Promise<void> {
  const socket = io(urls[i % urls.length] as string, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    query: { profile: `${BENCH_SITE}:a:bench-${i}` },
  })
  sockets.push(socket)
  socket.on(SOCKETIO_EVENT, (offer: { decidedAt: number }) => onOffer(offer.decidedAt))
  socket.on('disconnect', () => {
    closed += 1
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('connect_error', reject)
  })
}

const stop = () => {
  for (const socket of sockets) {
    if (socket instanceof WebSocket) {
      socket.terminate()
    } else {
      socket.disconnect()
    }
  }
  process.exit(0)
}
process.once('SIGTERM', stop)
whenParentGone(stop)
process.on('message', (message: { cmd?: string }) => {
  if (message.cmd === 'reset') {
    received = 0
    lastAt = 0
    samples = []
  } else if (message.cmd === 'report') {
    say({ event: 'report', received, samples, closed, lastAt })
  } else if (message.cmd === 'count') {
    say({ event: 'count', received, lastAt })
  }
})

const master = process.env.NUDGE_SECRET_KEY
const key = master ? deriveServerKeys(Buffer.from(master, 'hex')).token : undefined
if (kind === 'nudge' && !key) {
  throw new Error('nudge clients need NUDGE_SECRET_KEY (hex) from the orchestrator')
}
if (kind !== 'nudge' && kind !== 'ws' && kind !== 'socketio') {
  throw new Error(`--kind must be nudge, ws or socketio, got ${kind}`)
}
/** Opens clients first … end - 1, OPENING at a time; reports how many opened. */
async function openRange(first: number, end: number): Promise<void> {
  let failed = 0
  let next = first
  await Promise.all(
    Array.from({ length: Math.min(OPENING, end - first) }, async () => {
      while (next < end) {
        const i = next
        next += 1
        try {
          await (kind === 'socketio' ? openSocketIo(i) : openNudge(i, key))
        } catch {
          failed += 1
        }
      }
    }),
  )
  say({ event: 'connected', count: end - first - failed, failed })
}

// Two halves, so the orchestrator can measure the memory of the second half alone: the first
// warms allocators and pools up, which would otherwise be charged to the connections.
const half = from + Math.floor(count / 2)
process.on('message', (message: { cmd?: string }) => {
  if (message.cmd === 'more') {
    void openRange(half, from + count)
  }
})
await openRange(from, half)
