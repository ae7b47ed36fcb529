/**
 * @module One push server of bench:gateway, run as its own process: the real Nudge gateway
 * (`startGateway`, real Redis, a static site instead of a database, since site lookups are
 * cached anyway), Socket.IO with @socket.io/redis-adapter (each socket joins the room of its
 * profile), or a bare `ws` server that only holds sockets (the memory floor). Prints `{ event: 'ready', port, pid }`; on the IPC message `{ cmd: 'gc' }`
 * runs a full garbage collection and prints `{ event: 'gc' }`, so the orchestrator reads a
 * settled RSS.
 *
 * Flags: --kind nudge|socketio, --prefix (Redis key prefix of the run).
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createAdapter } from '@socket.io/redis-adapter'
import { Server } from 'socket.io'
import { type WebSocket, WebSocketServer } from 'ws'
import { startGateway } from '../gateway/main'
import { loadConfig } from '../runtime/config'
import { createLogger } from '../runtime/logger'
import { createMetrics } from '../runtime/metrics'
import { createBlockingRedis, createRedis, waitReady } from '../runtime/redis'
import { deriveServerKeys } from '../runtime/secret-key'
import { BENCH_SITE } from './gateway-protocol'
import { whenParentGone } from './protocol'

const { values } = parseArgs({
  options: { kind: { type: 'string' }, prefix: { type: 'string' } },
})
const kind = values.kind
const prefix = values.prefix ?? 'bench:gw:'
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

const say = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`)
const closers: (() => Promise<unknown> | unknown)[] = []
const stop = async () => {
  for (const close of closers) {
    await Promise.resolve(close()).catch(() => {})
  }
  process.exit(0)
}
process.once('SIGTERM', () => void stop())
whenParentGone(() => void stop())
// A full collection on request, without a node flag (children are started as `node --import tsx`).
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
process.on('message', (message: { cmd?: string }) => {
  if (message.cmd === 'gc') {
    gc()
    gc()
    const memory = process.memoryUsage()
    say({ event: 'gc', heap: memory.heapUsed + memory.external })
  }
})

if (kind === 'nudge') {
  const config = loadConfig({
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    NUDGE_KEY_PREFIX: prefix,
    // Every bench client comes from 127.0.0.1.
    NUDGE_LIVE_MAX_PER_IP: '1000000',
  })
  const master = config.NUDGE_SECRET_KEY
  if (!master) {
    throw new Error('bench gateway needs NUDGE_SECRET_KEY from the orchestrator')
  }
  const redis = createRedis(redisUrl, { commandTimeoutMs: 5_000, name: 'bench-gateway' })
  const subscriber = createBlockingRedis(redisUrl, 'bench-gateway-sub')
  await waitReady(redis, 5_000)
  const gateway = await startGateway({
    config,
    logger: createLogger({ level: 'warn', role: 'gateway' }),
    metrics: createMetrics({ defaults: false }),
    redis,
    subscriber,
    tokenKey: deriveServerKeys(master).token,
    lookupSite: async (siteId) =>
      siteId === BENCH_SITE ? { id: BENCH_SITE, allowedOrigins: ['*'] } : undefined,
    port: 0,
    host: '127.0.0.1',
    readiness: {},
  })
  closers.push(
    () => gateway.close(),
    () => redis.quit(),
  )
  say({ event: 'ready', port: gateway.port, pid: process.pid })
} else if (kind === 'ws') {
  // The floor: a bare `ws` server holding sockets (same options as the gateway), no Redis.
  const server = createServer()
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 4096,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (protocols) => (protocols.has('nudge.v1') ? 'nudge.v1' : false),
  })
  const held = new Set<WebSocket>()
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      held.add(ws)
      ws.on('close', () => held.delete(ws))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(() => {
    for (const ws of held) {
      ws.terminate()
    }
    server.close()
  })
  say({ event: 'ready', port: (server.address() as AddressInfo).port, pid: process.pid })
} else if (kind === 'socketio') {
  const pub = createBlockingRedis(redisUrl, 'bench-socketio-pub')
  const sub = pub.duplicate()
  const server = createServer()
  const io = new Server(server, {
    transports: ['websocket'],
    adapter: createAdapter(pub, sub, { key: `${prefix}socket.io` }),
  })
  io.on('connection', (socket) => {
    const profile = socket.handshake.query.profile
    if (typeof profile === 'string') {
      void socket.join(profile)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(
    () => io.close(),
    () => pub.quit(),
    () => sub.quit(),
  )
  say({ event: 'ready', port: (server.address() as AddressInfo).port, pid: process.pid })
} else {
  throw new Error(`--kind must be nudge, socketio or ws, got ${kind}`)
}
