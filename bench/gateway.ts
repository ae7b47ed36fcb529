/**
 * @module `npm run bench:gateway`: live push, Nudge's gateway next to Socket.IO with its Redis
 * adapter, in the same run on the same machine (see bench/README.md), with a bare `ws` server
 * holding the same sockets as the memory floor.
 *
 * For each system: `--servers` server processes (default 2), `--connections` idle clients
 * spread over `--client-procs` client processes (so the clients' own GC does not dominate the
 * tail), each client its own profile. Reported: server RSS per idle connection (after a full
 * GC, against the same servers before any client), then for each offered rate in `--rates`
 * (one offer to one profile each, round-robin, pushed through Redis by a publisher process for
 * `--step-seconds`): offers delivered (the run waits until all arrived, or none did for 2 s),
 * delivered per second (over the time until the last one arrived), and decided → received
 * latency p50 / p99 over every offer. `--runs n` repeats everything, alternating the order of
 * the systems, and reports medians. Everything runs on loopback under a `bench:gw:<run>:` key
 * prefix that is deleted at the end; only its own children are stopped, by pid, also on Ctrl-C.
 */
import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import type { ClientLine, PublisherLine } from './gateway-protocol'
import { cpuMs, latencyOf, machine, machineBusyMs, rssBytes } from './measure'
import { type Child, running, startChild, stopChild } from './pipeline-children'
import { deleteKeys, sleep } from './protocol'

const USAGE = `npm run bench:gateway -- [--connections 2000] [--servers 2] [--client-procs 2]
  [--rates 1000,5000,10000,20000] [--step-seconds 5] [--runs 1] [--only ws,nudge,socketio]
Large runs: --connections 19000 --servers 1 --client-procs 4 (one gateway near the open-file cap)
            --connections 50000 --servers 3 --client-procs 6 --only ws,nudge`

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '2000' },
    servers: { type: 'string', default: '2' },
    'client-procs': { type: 'string', default: '2' },
    rates: { type: 'string', default: '1000,5000,10000,20000' },
    'step-seconds': { type: 'string', default: '5' },
    runs: { type: 'string', default: '1' },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}
const connections = Number(values.connections)
const servers = Number(values.servers)
const clientProcs = Number(values['client-procs'])
const rates = (values.rates ?? '').split(',').map(Number)
const stepSeconds = Number(values['step-seconds'])
const runs = Number(values.runs)
/** File descriptors per process are capped at 20,000 here; leave room for everything else. */
const FD_ROOM = 19_000
for (const [name, ok] of [
  ['--connections', connections > 0],
  ['--servers', servers >= 1 && servers <= 8],
  ['--client-procs', clientProcs >= 1 && clientProcs <= 16],
  ['--rates', rates.length > 0 && rates.every((r) => r > 0 && r <= 200_000)],
  ['--step-seconds', stepSeconds >= 1 && stepSeconds <= 120],
  ['--runs', runs >= 1 && runs <= 9],
  [
    `--connections per server (${Math.ceil(connections / servers)}) and per client process (${Math.ceil(connections / clientProcs)}) within ${FD_ROOM}`,
    connections / servers <= FD_ROOM && connections / clientProcs <= FD_ROOM,
  ],
] as const) {
  if (!ok) {
    console.error(`bad ${name}\n${USAGE}`)
    process.exit(2)
  }
}
type Kind = 'ws' | 'nudge' | 'socketio'
const kinds = (['ws', 'nudge', 'socketio'] as const).filter(
  (k) => !values.only || values.only.split(',').includes(k),
)

const run = randomBytes(4).toString('hex')
const prefix = `bench:gw:${run}:`
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
if (!/^redis:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(redisUrl)) {
  console.error(`bench:gateway runs on loopback only; REDIS_URL is ${redisUrl}`)
  process.exit(2)
}
// Children inherit it: servers check tokens that the clients sign.
process.env.NUDGE_SECRET_KEY = randomBytes(32).toString('hex')
process.env.REDIS_URL = redisUrl

const cleanupRedis = new Redis(redisUrl)
/** redis-server's pid, to read its CPU from /proc (loopback only, so it is on this machine). */
const redisPid = Number(/process_id:(\d+)/.exec(await cleanupRedis.info('server'))?.[1] ?? 0)
let stopping = false
async function cleanup(): Promise<void> {
  await Promise.all(running().map((child) => stopChild(child, 0, 5_000)))
  const deleted = await deleteKeys(cleanupRedis, prefix)
  cleanupRedis.disconnect()
  console.error(`cleaned up: ${deleted} keys under ${prefix}`)
}
process.once('SIGINT', () => {
  if (!stopping) {
    stopping = true
    void cleanup().then(() => process.exit(130))
  }
})

async function expect<T extends { event: string }>(
  child: Child,
  event: T['event'],
  timeoutMs: number,
): Promise<T> {
  for (;;) {
    const line = (await child.next(timeoutMs)) as T
    if (line.event === event) {
      return line
    }
  }
}

type Step = {
  rate: number
  sent: number
  delivered: number
  perSecond: number
  p50: number
  p99: number
  max: number
  serverCpu: number
  publisherCpu: number
  clientCpu: number
  redisCpu: number
  others: number
}
type Result = {
  kind: string
  connected: number
  rssPerConnKb: number
  marginalRssPerConnKb: number
  heapPerConnKb: number
  rssMb: number[]
  steps: Step[]
}

async function measure(kind: Kind): Promise<Result> {
  console.error(`\n${kind}: starting ${servers} servers`)
  const serverProcs = Array.from({ length: servers }, () =>
    startChild('gateway-server.ts', ['--kind', kind, '--prefix', prefix]),
  )
  const ready = await Promise.all(
    serverProcs.map((s) =>
      expect<{ event: 'ready'; port: number; pid: number }>(s, 'ready', 30_000),
    ),
  )
  const urls = ready.map((r) =>
    kind === 'socketio' ? `http://127.0.0.1:${r.port}` : `ws://127.0.0.1:${r.port}`,
  )
  const settledRss = async () => {
    for (const s of serverProcs) {
      s.send({ cmd: 'gc' })
    }
    const heaps = await Promise.all(
      serverProcs.map((s) => expect<{ event: 'gc'; heap: number }>(s, 'gc', 10_000)),
    )
    return {
      rss: serverProcs.map((s) => rssBytes(s.pid) ?? 0),
      heap: heaps.reduce((sum, h) => sum + h.heap, 0),
    }
  }
  await sleep(1_000)
  const before = await settledRss()

  console.error(
    `${kind}: opening ${connections} connections (two halves) from ${clientProcs} client processes`,
  )
  const share = Math.ceil(connections / clientProcs)
  const clients = Array.from({ length: clientProcs }, (_, p) =>
    startChild('gateway-clients.ts', [
      '--kind',
      kind,
      '--urls',
      urls.join(','),
      '--from',
      String(p * share),
      '--count',
      String(Math.max(0, Math.min(share, connections - p * share))),
    ]),
  )
  const opened = await Promise.all(
    clients.map((c) =>
      expect<Extract<ClientLine, { event: 'connected' }>>(
        c,
        'connected',
        30_000 + connections * 20,
      ),
    ),
  )
  await sleep(2_000)
  const middle = await settledRss()
  for (const c of clients) {
    c.send({ cmd: 'more' })
  }
  const more = await Promise.all(
    clients.map((c) =>
      expect<Extract<ClientLine, { event: 'connected' }>>(
        c,
        'connected',
        30_000 + connections * 20,
      ),
    ),
  )
  const secondHalf = more.reduce((sum, o) => sum + o.count, 0)
  const connected = opened.reduce((sum, o) => sum + o.count, 0) + secondHalf
  const failed = [...opened, ...more].reduce((sum, o) => sum + o.failed, 0)
  console.error(`${kind}: ${connected} connected, ${failed} failed; idling 3 s`)
  await sleep(3_000)
  const after = await settledRss()
  const grown = after.rss.reduce((sum, rss, i) => sum + rss - (before.rss[i] ?? 0), 0)
  const grownSecond = after.rss.reduce((sum, rss, i) => sum + rss - (middle.rss[i] ?? 0), 0)
  const memory = {
    connected,
    rssPerConnKb: grown / Math.max(1, connected) / 1024,
    marginalRssPerConnKb: grownSecond / Math.max(1, secondHalf) / 1024,
    heapPerConnKb: (after.heap - before.heap) / Math.max(1, connected) / 1024,
    rssMb: after.rss.map((b) => Math.round(b / 2 ** 20)),
  }
  if (kind === 'ws') {
    await Promise.all([...clients, ...serverProcs].map((c) => stopChild(c, 0, 5_000)))
    return { kind, ...memory, steps: [] }
  }

  const publisher = startChild('gateway-publisher.ts', ['--kind', kind, '--prefix', prefix])
  await expect(publisher, 'ready', 30_000)
  const steps: Step[] = []
  for (const rate of rates) {
    for (const c of clients) {
      c.send({ cmd: 'reset' })
    }
    await sleep(200)
    const cpuBefore = serverProcs.map((s) => cpuMs(s.pid) ?? 0)
    const busyBefore = machineBusyMs() ?? 0
    const cpuOf = (procs: Child[]) => procs.reduce((sum, c) => sum + (cpuMs(c.pid) ?? 0), 0)
    const clientsBefore = cpuOf(clients)
    const redisBefore = cpuMs(redisPid) ?? 0
    const ownBefore = cpuOf([...serverProcs, ...clients, publisher])
    const startedAt = Date.now()
    publisher.send({ cmd: 'run', rate, seconds: stepSeconds, profiles: connected })
    const ran = await expect<Extract<PublisherLine, { event: 'ran' }>>(
      publisher,
      'ran',
      stepSeconds * 1000 + 60_000,
    )
    // Drain: wait until every offer arrived, or nothing more arrived for 2 s (then the rest is lost).
    let arrived = 0
    let quietSince = Date.now()
    while (Date.now() - quietSince < 2_000) {
      await sleep(250)
      for (const c of clients) {
        c.send({ cmd: 'count' })
      }
      const counts = await Promise.all(
        clients.map((c) => expect<Extract<ClientLine, { event: 'count' }>>(c, 'count', 30_000)),
      )
      const now = counts.reduce((sum, n) => sum + n.received, 0)
      if (now >= ran.sent) {
        break
      }
      if (now > arrived) {
        arrived = now
        quietSince = Date.now()
      }
    }
    const cpuAfter = serverProcs.map((s) => cpuMs(s.pid) ?? 0)
    const ownAfter = cpuOf([...serverProcs, ...clients, publisher])
    const clientsCpu = cpuOf(clients) - clientsBefore
    const redisCpu = (cpuMs(redisPid) ?? 0) - redisBefore
    const busy = (machineBusyMs() ?? 0) - busyBefore
    for (const c of clients) {
      c.send({ cmd: 'report' })
    }
    const reports = await Promise.all(
      clients.map((c) => expect<Extract<ClientLine, { event: 'report' }>>(c, 'report', 30_000)),
    )
    const samples = reports.flatMap((r) => r.samples)
    const delivered = reports.reduce((sum, r) => sum + r.received, 0)
    const latency = latencyOf(samples)
    const windowMs = Date.now() - startedAt
    // Throughput over the time the offers took to arrive, not the time they took to be sent.
    const lastAt = Math.max(...reports.map((r) => r.lastAt))
    const step: Step = {
      rate,
      sent: ran.sent,
      delivered,
      perSecond: delivered / (Math.max(lastAt - startedAt, ran.seconds * 1000) / 1000),
      p50: latency.p50,
      p99: latency.p99,
      max: latency.max,
      serverCpu:
        (cpuAfter.reduce((a, b) => a + b, 0) - cpuBefore.reduce((a, b) => a + b, 0)) / windowMs,
      publisherCpu: ran.cpuMs / (ran.seconds * 1000),
      clientCpu: clientsCpu / windowMs,
      redisCpu: redisCpu / windowMs,
      others: Math.max(0, busy - (ownAfter - ownBefore) - redisCpu) / windowMs,
    }
    steps.push(step)
    console.error(
      `${kind} @ ${rate}/s: delivered ${delivered}/${ran.sent} (${Math.round(step.perSecond)}/s) p50 ${step.p50} ms p99 ${step.p99} ms`,
    )
    await sleep(500)
  }
  await Promise.all([publisher, ...clients].map((c) => stopChild(c, 0, 5_000)))
  await Promise.all(serverProcs.map((s) => stopChild(s, 0, 10_000)))
  return { kind, ...memory, steps }
}

const m = machine()
console.log(`bench:gateway — ${new Date().toISOString()}`)
console.log(`machine: ${m.cpu}, ${m.cores} cores, ${m.memory}, ${m.os}, Node ${m.node}`)
console.log(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
)
console.log(
  `run: ${connections} connections, ${servers} servers, ${clientProcs} client processes, rates ${rates.join(', ')}/s for ${stepSeconds} s each, ${runs} run(s)`,
)
const results: Result[] = []
try {
  for (let round = 0; round < runs; round++) {
    // Alternate the order, so a neighbour's burst of load does not always hit the same system.
    const order = round % 2 === 0 ? kinds : [...kinds].reverse()
    for (const kind of order) {
      results.push(await measure(kind))
    }
  }
} finally {
  if (!stopping) {
    stopping = true
    await cleanup()
  }
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}
const pct = (x: number) => `${Math.round(x * 100)}%`
const summary = new Map<string, { memory: Result; steps: Step[]; rssPerConnKb: number }>()
for (const kind of kinds) {
  const mine = results.filter((r) => r.kind === kind)
  const first = mine[0]
  if (!first) {
    continue
  }
  const steps = first.steps.map((_, i) => {
    const at = mine.map((r) => r.steps[i]).filter((x): x is Step => x !== undefined)
    const med = (pick: (s: Step) => number) => median(at.map(pick))
    return {
      rate: first.steps[i]?.rate ?? 0,
      sent: med((s) => s.sent),
      delivered: med((s) => s.delivered),
      perSecond: med((s) => s.perSecond),
      p50: med((s) => s.p50),
      p99: med((s) => s.p99),
      max: med((s) => s.max),
      serverCpu: med((s) => s.serverCpu),
      redisCpu: med((s) => s.redisCpu),
      publisherCpu: med((s) => s.publisherCpu),
      clientCpu: med((s) => s.clientCpu),
      others: med((s) => s.others),
    }
  })
  const memory: Result = {
    ...first,
    rssPerConnKb: median(mine.map((r) => r.rssPerConnKb)),
    marginalRssPerConnKb: median(mine.map((r) => r.marginalRssPerConnKb)),
    heapPerConnKb: median(mine.map((r) => r.heapPerConnKb)),
  }
  summary.set(kind, { memory, steps, rssPerConnKb: memory.rssPerConnKb })
  console.log(
    `\n${kind}${runs > 1 ? ` (medians of ${mine.length} runs)` : ''}: ${first.connected} idle connections, server RSS ${first.rssMb.join(' + ')} MB; per connection: ${memory.marginalRssPerConnKb.toFixed(1)} KB RSS (second half alone), ${memory.rssPerConnKb.toFixed(1)} KB RSS (all, from empty), ${memory.heapPerConnKb.toFixed(1)} KB JS heap + external`,
  )
  if (steps.length === 0) {
    continue
  }
  console.log(
    '| offered/s | sent | delivered | delivered/s | p50 ms | p99 ms | max ms | servers CPU | redis CPU | publisher CPU | clients CPU | others CPU |',
  )
  console.log(
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  )
  for (const s of steps) {
    console.log(
      `| ${s.rate} | ${s.sent} | ${s.delivered} | ${Math.round(s.perSecond)} | ${s.p50} | ${s.p99} | ${s.max} | ${pct(s.serverCpu)} | ${pct(s.redisCpu)} | ${pct(s.publisherCpu)} | ${pct(s.clientCpu)} | ${pct(s.others)} |`,
    )
  }
}
const nudge = summary.get('nudge')
const socketio = summary.get('socketio')
if (nudge && socketio) {
  const best = (steps: Step[]) =>
    Math.max(...steps.map((s) => (s.delivered >= 0.99 * s.sent ? s.perSecond : 0)))
  console.log(
    `\nratios (nudge / socket.io): idle memory per connection ${(nudge.memory.marginalRssPerConnKb / socketio.memory.marginalRssPerConnKb).toFixed(2)}× (RSS, second half), ${(nudge.memory.heapPerConnKb / socketio.memory.heapPerConnKb).toFixed(2)}× (heap); ` +
      `best delivered/s ${(best(nudge.steps) / Math.max(1, best(socketio.steps))).toFixed(2)}×`,
  )
}
