/**
 * @module The offer source of bench:gateway: on IPC `{ cmd: 'run', rate, seconds, profiles }`
 * pushes `rate` offers a second for `seconds` through Redis, round-robin over the profiles,
 * each stamped `decidedAt` when it is sent, then prints `{ event: 'ran', sent, cpuMs }`.
 *
 * Nudge: `deliverOffer` (one script call: XADD to the profile's inbox + PEXPIRE + PUBLISH on
 * its channel) — what the workers do. Socket.IO: `io.to(room).emit()` on a server with the Redis
 * adapter and no sockets of its own, the usual way a back-end process emits to users; the
 * adapter PUBLISHes each emit on one channel every server subscribes to.
 *
 * Sending is paced in 5 ms slices and never waits for Redis in between, so a slow Redis shows
 * up as latency, not as a slower generator; at most 20,000 deliveries are in flight.
 */
import { parseArgs } from 'node:util'
import { createAdapter } from '@socket.io/redis-adapter'
import { Server } from 'socket.io'
import { createBlockingRedis } from '../runtime/redis'
import { deliverOffer } from '../streams/inbox'
import { createKeys } from '../streams/keys'
import { benchOffer, type PublisherLine, profileOf, SOCKETIO_EVENT } from './gateway-protocol'
import { sleep, whenParentGone } from './protocol'

const { values } = parseArgs({ options: { kind: { type: 'string' }, prefix: { type: 'string' } } })
const kind = values.kind
const prefix = values.prefix ?? 'bench:gw:'
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const MAX_IN_FLIGHT = 20_000

const say = (line: PublisherLine) => process.stdout.write(`${JSON.stringify(line)}\n`)
const redis = createBlockingRedis(redisUrl, 'bench-publisher')
const keys = createKeys(prefix)
let io: Server | undefined
if (kind === 'socketio') {
  io = new Server({
    adapter: createAdapter(redis, redis.duplicate(), { key: `${prefix}socket.io` }),
  })
}

let inFlight = 0
function publish(i: number): void {
  const offer = benchOffer()
  if (io) {
    io.to(profileOf(i)).emit(SOCKETIO_EVENT, offer)
    return
  }
  inFlight += 1
  deliverOffer(redis, keys, profileOf(i), offer).then(
    () => {
      inFlight -= 1
    },
    (err: unknown) => {
      inFlight -= 1
      process.stderr.write(`publish failed: ${(err as Error).message}\n`)
    },
  )
}

async function run(rate: number, seconds: number, profiles: number): Promise<void> {
  const cpuStart = process.cpuUsage()
  const started = performance.now()
  const total = Math.round(rate * seconds)
  let sent = 0
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate))
    while (sent < due && inFlight < MAX_IN_FLIGHT) {
      publish(sent % profiles)
      sent += 1
    }
    await sleep(5)
  }
  while (inFlight > 0) {
    await sleep(5)
  }
  const cpu = process.cpuUsage(cpuStart)
  say({
    event: 'ran',
    sent,
    seconds: (performance.now() - started) / 1000,
    cpuMs: (cpu.user + cpu.system) / 1000,
  })
}

const stop = () => {
  redis.disconnect()
  process.exit(0)
}
process.once('SIGTERM', stop)
whenParentGone(stop)
process.on(
  'message',
  (message: { cmd?: string; rate?: number; seconds?: number; profiles?: number }) => {
    if (message.cmd === 'run') {
      void run(message.rate ?? 1000, message.seconds ?? 5, message.profiles ?? 1)
    }
  },
)
say({ event: 'ready' })
