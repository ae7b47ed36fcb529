/**
 * @module `npm run bench:pipeline`: how many events per second one workers process carries
 * through the whole pipeline (log → pump → BullMQ → recommendations and exactly-once profiles)
 * with a bounded lag, how late events reach the profiles, and whether the workers' memory stays
 * flat over 60 s — next to the naive design (one BullMQ job per event, one Redis round trip per
 * update) measured in the same run on the same machine. See bench/PIPELINE.md.
 *
 * Phases, each with its own producer child (pipeline-producer.ts):
 * 1. `real-capacity`: closed loop, the producer keeps the backlog (appended, not yet processed)
 *    under `--backlog` events: what the pipeline can do at a bounded lag.
 * 2. `real-steady`: open loop at `--rate` (default: 90% of the capacity just measured, to two
 *    significant digits) for 60 s: is that rate sustained, how late are events, is memory flat.
 * 3. `naive-capacity` and 4. `naive-steady`: the same for the naive design.
 * The real workers (pipeline-workers.ts) and the naive ones (pipeline-naive.ts) each run in one
 * child of their own, never at the same time. CPU and RSS come from /proc, progress and latency
 * from Redis (pipeline-backlog.ts). Redis is a private redis-server on a free loopback port
 * (pipeline-redis.ts) unless `--shared-redis`, so its CPU is this bench's alone. Keys live under
 * `bench:<run>:` and are deleted at the end, also on Ctrl-C; every child (and that server) is
 * stopped by its pid.
 *
 * Usage: npm run bench:pipeline -- [--quick] [--duration 10] [--steady-duration 60]
 *   [--naive-duration 10] [--warmup 3] [--rate events/s] [--naive-rate events/s]
 *   [--backlog 10000] [--naive-backlog 2000]
 *   [--events-per-request 20] [--shoppers 10000] [--partitions 8] [--naive-concurrency 16]
 *   [--only real|naive] [--profile] [--wait-quiet s] [--shared-redis]
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { createKeys, GROUPS, QUEUES } from '../streams/keys'
import {
  cpuMs,
  type Latency,
  latencyOf,
  machine,
  machineBusyMs,
  processName,
  rssBytes,
  slope,
} from './measure'
import { type BacklogTarget, readBacklog, readCompletions, readFailures } from './pipeline-backlog'
import { type Child, running, startChild, stopChild } from './pipeline-children'
import {
  type CommandTime,
  canStartRedis,
  type OwnRedis,
  readCommandLog,
  startCommandLog,
  startOwnRedis,
} from './pipeline-redis'
import { runQueueMs } from './pipeline-sched'
import { summariseProfile } from './profile'
import { deleteKeys, type LoadResult, sleep } from './protocol'

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url))
const SHARED_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const NAIVE_QUEUE = 'naive-events'
/** Latency samples taken per second of a phase (each a job: all its events share receivedAt). */
const SAMPLES_PER_SECOND = 250
/** Commands the `--profile` command log keeps (~0.5 KB each); past it the oldest are dropped. */
const COMMAND_LOG_MAX = 500_000

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    'steady-duration': { type: 'string' },
    'naive-duration': { type: 'string' },
    warmup: { type: 'string' },
    rate: { type: 'string' },
    'naive-rate': { type: 'string' },
    backlog: { type: 'string', default: '10000' },
    'naive-backlog': { type: 'string', default: '2000' },
    'events-per-request': { type: 'string', default: '20' },
    shoppers: { type: 'string', default: '10000' },
    partitions: { type: 'string', default: '8' },
    'naive-concurrency': { type: 'string', default: '16' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'wait-quiet': { type: 'string', default: '0' },
    'shared-redis': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})

if (values.help) {
  console.log(
    'npm run bench:pipeline -- [--quick] [--duration s] [--steady-duration s] [--naive-duration s] [--warmup s]\n' +
      '  [--rate events/s] [--naive-rate events/s] [--backlog events] [--naive-backlog events]\n' +
      '  [--events-per-request N] [--shoppers N]\n' +
      '  [--partitions P] [--naive-concurrency N] [--only real|naive] [--profile] [--wait-quiet s]\n' +
      '  [--shared-redis]   use the Redis at REDIS_URL instead of a private redis-server on a free port',
  )
  process.exit(0)
}

const seconds = (flag: string | undefined, normal: number, quick: number) =>
  flag === undefined ? (values.quick ? quick : normal) : Number(flag)
const capacityS = seconds(values.duration, 10, 3)
const steadyS = seconds(values['steady-duration'], 60, 5)
const naiveSteadyS = seconds(values['naive-duration'], 10, 3)
const warmupS = seconds(values.warmup, 3, 1)
const eventsPerRequest = Number(values['events-per-request'])
const partitions = Number(values.partitions)
/**
 * Closed-loop bounds, in events: enough to keep every worker busy (the pump reads 200 entries
 * per partition, the workers run 16 jobs at once), small enough to drain quickly afterwards.
 */
const backlogBound = { real: Number(values.backlog), naive: Number(values['naive-backlog']) }
const runId = randomBytes(4).toString('hex')
const runPrefix = `bench:${runId}:`

type Design = 'real' | 'naive'

type Phase = {
  name: string
  design: Design
  loop: 'open' | 'closed'
  seconds: number
  /** Open loop only: events/s offered, known once the capacity phase has run. */
  rate?: () => number
  describe(): string
}

type Memory = { firstMb: number; lastMb: number; maxMb: number; slopeMbPerMin: number }

type Outcome = {
  phase: Phase
  /** Events the producer got accepted over its whole run (what the workers had to process). */
  totalEvents: number
  producer: LoadResult
  wallS: number
  /** Events whose job completed inside the window, per second: the sustained rate. */
  processedPerSecond: number
  /** Events/s the producer appended (or enqueued) inside the window. */
  sentPerSecond: number
  offeredPerSecond?: number
  latency: Latency
  latencySamples: number
  /** Stream entries not yet acknowledged by the group, sampled each second. */
  streamMax: number
  streamFinal: number
  /** Jobs waiting or running, sampled each second. */
  queueMax: number
  queueFinal: number
  /** Both, in events; and the least-squares growth of that backlog, events/s. */
  backlogMax: number
  /** Lowest backlog sampled in the window: near 0 in a closed loop means the workers ran dry. */
  backlogMin: number
  backlogFinal: number
  backlogSlope: number
  drainS: number | undefined
  cpuPct: {
    workers?: number
    workersMain?: number
    producer?: number
    redis?: number
    bench?: number
    others?: number
  }
  /** % of the window the main thread was runnable but had no CPU (schedstat). */
  waitPct: { workersMain?: number; redisMain?: number }
  memory?: Memory
  failures: { failed: number; retrying: number }
  profileFile?: string
  /** `--profile` on a private Redis, capacity phases: Redis time by command and script. */
  commands?: CommandTime[]
}

const fmt = {
  int: (n: number | undefined) =>
    n === undefined || Number.isNaN(n) ? 'n/a' : Math.round(n).toLocaleString('en-US'),
  ms: (n: number | undefined) =>
    n === undefined || Number.isNaN(n) ? 'n/a' : n < 10 ? n.toFixed(1) : Math.round(n).toString(),
  pct: (n: number | undefined) =>
    n === undefined || Number.isNaN(n) ? 'n/a' : `${Math.round(n)}%`,
  ratio: (n: number | undefined) =>
    n === undefined || !Number.isFinite(n) ? 'n/a' : `${n.toFixed(1)}×`,
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? []
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
        .join('  '),
    )
    .join('\n')
}

/** Two significant digits, rounded down: a round rate just below what was measured. */
const roundRate = (eventsPerSecond: number) => {
  if (!(eventsPerSecond >= 10)) {
    return 10
  }
  const step = 10 ** (Math.floor(Math.log10(eventsPerSecond)) - 1)
  return Math.floor(eventsPerSecond / step) * step
}

/** Set on Ctrl-C / SIGTERM: waits stop waiting, so the run unwinds through its cleanup. */
let interrupted = false

function unlessInterrupted(): void {
  if (interrupted) {
    throw new Error('interrupted')
  }
}

const outcomes = new Map<string, Outcome>()
const capacityOf = (name: string) => outcomes.get(name)?.processedPerSecond

const phases: Phase[] = [
  {
    name: 'real-capacity',
    design: 'real',
    loop: 'closed',
    seconds: capacityS,
    describe: () =>
      `real pipeline, closed loop keeping ≤ ${fmt.int(backlogBound.real)} events appended but unprocessed, ${capacityS} s`,
  },
  {
    name: 'real-steady',
    design: 'real',
    loop: 'open',
    seconds: steadyS,
    rate: () =>
      values.rate === undefined
        ? roundRate(0.9 * (capacityOf('real-capacity') ?? 10_000))
        : Number(values.rate),
    describe: () =>
      `real pipeline, open loop at ${values.rate === undefined ? '90% of real-capacity (2 significant digits)' : '--rate'}, ${steadyS} s, workers RSS each second`,
  },
  {
    name: 'naive-capacity',
    design: 'naive',
    loop: 'closed',
    seconds: capacityS,
    describe: () =>
      `naive design, closed loop keeping ≤ ${fmt.int(backlogBound.naive)} one-event jobs waiting or running, ${capacityS} s`,
  },
  {
    name: 'naive-steady',
    design: 'naive',
    loop: 'open',
    seconds: naiveSteadyS,
    rate: () =>
      values['naive-rate'] === undefined
        ? roundRate(0.9 * (capacityOf('naive-capacity') ?? 2_000))
        : Number(values['naive-rate']),
    describe: () =>
      `naive design, open loop at ${values['naive-rate'] === undefined ? '90% of naive-capacity (2 significant digits)' : '--naive-rate'}, ${naiveSteadyS} s`,
  },
]

function targetOf(design: Design, prefix: string): BacklogTarget {
  const keys = createKeys(prefix)
  return design === 'real'
    ? {
        streams: Array.from({ length: partitions }, (_, p) => keys.events(p)),
        group: GROUPS.pipeline,
        queue: `${prefix}bull:${QUEUES.events}`,
        eventsPerEntry: eventsPerRequest,
      }
    : {
        streams: [],
        group: GROUPS.pipeline,
        queue: `${prefix}bull:${NAIVE_QUEUE}`,
        eventsPerEntry: 1,
      }
}

/** Waits until nothing is left to process; the seconds it took, or undefined after `maxS`. */
async function drain(redis: Redis, target: BacklogTarget, maxS: number) {
  const started = performance.now()
  for (;;) {
    unlessInterrupted()
    const { events } = await readBacklog(redis, target)
    if (events === 0) {
      return (performance.now() - started) / 1000
    }
    if (performance.now() - started > maxS * 1000) {
      return undefined
    }
    await sleep(200)
  }
}

/**
 * On a shared machine, waits (at most `maxS` seconds) until everything else together uses under
 * 15% of one core over a 2 s sample. The seconds waited, or undefined when it gave up.
 */
async function waitForQuiet(maxS: number): Promise<number | undefined> {
  const started = performance.now()
  for (;;) {
    unlessInterrupted()
    const before = machineBusyMs()
    await sleep(2_000)
    const after = machineBusyMs()
    if (before === undefined || after === undefined || after - before < 0.15 * 2_000) {
      return (performance.now() - started) / 1000
    }
    if (performance.now() - started > maxS * 1000) {
      return undefined
    }
  }
}

type Ctx = {
  redis: Redis
  redisPid?: number
  workers: Child
  prefix: string
  profileDir?: string
  /** Log every Redis command in capacity windows (`--profile` on a private server). */
  commandLog: boolean
}

function snapshot(pids: { workers: number; producer: number; redis?: number }) {
  const self = process.cpuUsage()
  return {
    workers: cpuMs(pids.workers),
    workersMain: cpuMs(pids.workers, pids.workers),
    producer: cpuMs(pids.producer),
    redis: pids.redis === undefined ? undefined : cpuMs(pids.redis),
    bench: (self.user + self.system) / 1000,
    busy: machineBusyMs(),
    workersWait: runQueueMs(pids.workers),
    redisWait: pids.redis === undefined ? undefined : runQueueMs(pids.redis),
  }
}

const pct = (before: number | undefined, after: number | undefined, wallMs: number) =>
  before === undefined || after === undefined ? undefined : ((after - before) / wallMs) * 100

async function runPhase(phase: Phase, ctx: Ctx): Promise<Outcome> {
  const target = targetOf(phase.design, ctx.prefix)
  const rate = phase.rate?.()
  const producer = startChild('pipeline-producer.ts', [
    '--prefix',
    ctx.prefix,
    '--mode',
    phase.design === 'real' ? 'log' : 'naive',
    '--loop',
    phase.loop,
    '--rate',
    String(rate ?? 0),
    '--backlog',
    String(backlogBound[phase.design]),
    '--events-per-request',
    String(eventsPerRequest),
    '--shoppers',
    String(values.shoppers),
    '--partitions',
    String(partitions),
    '--naive-queue',
    NAIVE_QUEUE,
    '--warmup',
    String(warmupS),
    '--duration',
    String(phase.seconds),
  ])
  const timeoutMs = (warmupS + phase.seconds + 60) * 1000
  const pids = { workers: ctx.workers.pid, producer: producer.pid, redis: ctx.redisPid }
  try {
    await producer.next(timeoutMs)
    const before = snapshot(pids)
    const started = performance.now()
    const windowStart = Date.now()
    const profileFile =
      ctx.profileDir && phase.design === 'real'
        ? join(ctx.profileDir, `${phase.name}.cpuprofile`)
        : undefined
    if (profileFile) {
      ctx.workers.send({ profile: 'start' })
    }
    const logCommands = ctx.commandLog && phase.loop === 'closed'
    if (logCommands) {
      await startCommandLog(ctx.redis, COMMAND_LOG_MAX)
    }
    const samples: { t: number; stream: number; queue: number; events: number }[] = []
    const rss: [number, number][] = []
    const latencies: number[] = []
    let completedEntries = 0
    let countedTo = windowStart
    let sampling = true
    // Completions are read up to 500 ms back: a job stamped finishedOn = t reaches the
    // completed set a moment after t, so the newest half second is read on the next pass.
    const countCompletions = async (to: number) => {
      const done = await readCompletions(ctx.redis, target.queue, countedTo, to, SAMPLES_PER_SECOND)
      completedEntries += done.entries
      latencies.push(...done.latenciesMs)
      countedTo = to
    }
    const sampleOnce = async () => {
      const t = (performance.now() - started) / 1000
      const backlog = await readBacklog(ctx.redis, target)
      samples.push({
        t,
        stream: backlog.streamEntries,
        queue: backlog.queueJobs,
        events: backlog.events,
      })
      const bytes = rssBytes(ctx.workers.pid)
      if (bytes !== undefined) {
        rss.push([t, bytes / 2 ** 20])
      }
      await countCompletions(Date.now() - 500)
    }
    const sampler = (async () => {
      while (sampling && !interrupted) {
        const next = performance.now() + 1000
        await sampleOnce()
        await sleep(Math.max(0, next - performance.now()))
      }
    })()
    await producer.next(timeoutMs)
    const after = snapshot(pids)
    const windowEnd = Date.now()
    const wallMs = performance.now() - started
    sampling = false
    await sampler
    if (profileFile) {
      ctx.workers.send({ profile: 'stop', file: profileFile })
    }
    const commands = logCommands ? await readCommandLog(ctx.redis) : undefined
    await sampleOnce()
    await sleep(Math.max(0, windowEnd + 600 - Date.now()))
    // Any completions stamped up to the window's end but not read yet; none after it.
    if (countedTo < windowEnd) {
      await countCompletions(windowEnd)
    }
    const result = (await producer.next(30_000)) as LoadResult
    const total = (await producer.next(30_000)) as { events?: number }
    const ours = (s: ReturnType<typeof snapshot>) =>
      [s.workers, s.producer, s.redis, s.bench].reduce<number>((sum, v) => sum + (v ?? 0), 0)
    const others =
      before.busy === undefined || after.busy === undefined
        ? undefined
        : Math.max(0, ((after.busy - before.busy - (ours(after) - ours(before))) / wallMs) * 100)
    const drainS = await drain(ctx.redis, target, 90)
    const profileMessage = profileFile ? await ctx.workers.next(60_000) : undefined
    const last = samples[samples.length - 1]
    const inWindow = samples.slice(0, -1)
    const memory: Memory | undefined =
      rss.length === 0
        ? undefined
        : {
            firstMb: rss[0]?.[1] ?? 0,
            lastMb: rss[rss.length - 1]?.[1] ?? 0,
            maxMb: Math.max(...rss.map(([, mb]) => mb)),
            slopeMbPerMin: slope(rss) * 60,
          }
    return {
      phase,
      totalEvents: total.events ?? 0,
      producer: result,
      wallS: wallMs / 1000,
      processedPerSecond: (completedEntries * target.eventsPerEntry) / (wallMs / 1000),
      sentPerSecond: result.eventsPerSecond,
      offeredPerSecond:
        result.offered === undefined
          ? undefined
          : (result.offered * eventsPerRequest) / result.seconds,
      latency: latencyOf(latencies),
      latencySamples: latencies.length,
      streamMax: Math.max(0, ...samples.map((s) => s.stream)),
      streamFinal: last?.stream ?? 0,
      queueMax: Math.max(0, ...samples.map((s) => s.queue)),
      queueFinal: last?.queue ?? 0,
      backlogMax: Math.max(0, ...samples.map((s) => s.events)),
      backlogMin: Math.min(...inWindow.map((s) => s.events)),
      backlogFinal: last?.events ?? 0,
      backlogSlope: slope(inWindow.map((s) => [s.t, s.events] as [number, number])),
      drainS,
      cpuPct: {
        workers: pct(before.workers, after.workers, wallMs),
        workersMain: pct(before.workersMain, after.workersMain, wallMs),
        producer: pct(before.producer, after.producer, wallMs),
        redis: pct(before.redis, after.redis, wallMs),
        bench: pct(before.bench, after.bench, wallMs),
        others,
      },
      waitPct: {
        workersMain: pct(before.workersWait, after.workersWait, wallMs),
        redisMain: pct(before.redisWait, after.redisWait, wallMs),
      },
      memory,
      failures: await readFailures(ctx.redis, target.queue),
      commands,
      profileFile:
        profileMessage && typeof profileMessage === 'object' && 'file' in profileMessage
          ? String(profileMessage.file)
          : undefined,
    }
  } finally {
    await stopChild(producer, 10_000)
  }
}

/** A closed loop whose backlog ran low measured the producer (or its Redis), not the workers. */
function ranDry(o: Outcome): boolean {
  return o.phase.loop === 'closed' && o.backlogMin < 0.25 * backlogBound[o.phase.design]
}

function printOutcome(o: Outcome): void {
  const offered =
    o.offeredPerSecond === undefined ? '' : ` (offered ${fmt.int(o.offeredPerSecond)})`
  const memory = o.memory
    ? `, workers RSS ${o.memory.firstMb.toFixed(0)}→${o.memory.lastMb.toFixed(0)} MB (max ${o.memory.maxMb.toFixed(0)}, ${o.memory.slopeMbPerMin.toFixed(1)} MB/min)`
    : ''
  const errors =
    Object.keys(o.producer.errors).length === 0
      ? ''
      : `, producer errors ${JSON.stringify(o.producer.errors)}`
  console.log(
    `  ${o.phase.name}: processed ${fmt.int(o.processedPerSecond)} events/s, sent ${fmt.int(o.sentPerSecond)}${offered}; ` +
      `latency p50 ${fmt.ms(o.latency.p50)} ms p99 ${fmt.ms(o.latency.p99)} ms (${o.latencySamples} jobs sampled); ` +
      `backlog max ${fmt.int(o.backlogMax)} final ${fmt.int(o.backlogFinal)} events, drained in ${o.drainS === undefined ? '> 90' : o.drainS.toFixed(1)} s; ` +
      `cpu workers ${fmt.pct(o.cpuPct.workers)} (main ${fmt.pct(o.cpuPct.workersMain)}) producer ${fmt.pct(o.cpuPct.producer)} redis ${fmt.pct(o.cpuPct.redis)} others ${fmt.pct(o.cpuPct.others)}; ` +
      `waiting for a CPU: workers main ${fmt.pct(o.waitPct.workersMain)}, redis ${fmt.pct(o.waitPct.redisMain)}${memory}; failed jobs ${o.failures.failed}, retrying ${o.failures.retrying}${errors}`,
  )
}

/**
 * Held: the producer kept its schedule, the workers processed what it sent, and the backlog
 * ended under one second of load (a spike that drained counts as held; a backlog that kept
 * growing does not, since it ends high).
 */
function held(o: Outcome): boolean {
  const rate = o.offeredPerSecond ?? o.sentPerSecond
  const sentOk = o.offeredPerSecond === undefined || o.sentPerSecond >= 0.98 * o.offeredPerSecond
  return sentOk && o.processedPerSecond >= 0.97 * o.sentPerSecond && o.backlogFinal <= rate
}

function report(): void {
  const rows = [
    [
      'phase',
      'offered ev/s',
      'processed ev/s',
      'stream lag max/final',
      'queue max/final',
      'backlog final',
      'p50 ms',
      'p99 ms',
      'max ms',
      'workers CPU',
      '(main)',
      'producer',
      'redis',
      'others',
      'CPU wait w/r',
    ],
  ]
  for (const phase of phases) {
    const o = outcomes.get(phase.name)
    if (!o) {
      continue
    }
    rows.push([
      phase.name,
      o.offeredPerSecond === undefined ? 'closed' : fmt.int(o.offeredPerSecond),
      `${fmt.int(o.processedPerSecond)}${ranDry(o) ? '*' : ''}`,
      phase.design === 'real' ? `${fmt.int(o.streamMax)}/${fmt.int(o.streamFinal)}` : '–',
      `${fmt.int(o.queueMax)}/${fmt.int(o.queueFinal)}`,
      fmt.int(o.backlogFinal),
      fmt.ms(o.latency.p50),
      fmt.ms(o.latency.p99),
      fmt.ms(o.latency.max),
      fmt.pct(o.cpuPct.workers),
      fmt.pct(o.cpuPct.workersMain),
      fmt.pct(o.cpuPct.producer),
      fmt.pct(o.cpuPct.redis),
      fmt.pct(o.cpuPct.others),
      `${fmt.pct(o.waitPct.workersMain)}/${fmt.pct(o.waitPct.redisMain)}`,
    ])
  }
  console.log(
    '\nResults (CPU in % of one core; "(main)" is the workers main thread, "others" every other process on the machine;\n' +
      ` stream lag in entries of ${eventsPerRequest} events, queue in jobs, backlog in events; latency = receivedAt → job finishedOn;\n` +
      ' "CPU wait w/r": % of the window the workers / redis main thread was runnable but had no CPU):\n',
  )
  console.log(table(rows))
  if ([...outcomes.values()].some(ranDry)) {
    console.log('  * the backlog ran low during the window: a lower bound on capacity')
  }
  console.log('')
  for (const phase of phases) {
    if (outcomes.has(phase.name)) {
      console.log(`  ${phase.name.padEnd(15)} ${phase.describe()}`)
    }
  }

  const realCap = outcomes.get('real-capacity')
  const realSteady = outcomes.get('real-steady')
  const naiveCap = outcomes.get('naive-capacity')
  const naiveSteady = outcomes.get('naive-steady')
  console.log('\nCost per event (CPU µs per processed event):')
  for (const o of outcomes.values()) {
    const per = (cpu: number | undefined) =>
      cpu === undefined || o.processedPerSecond === 0
        ? 'n/a'
        : `${(((cpu / 100) * 1e6) / o.processedPerSecond).toFixed(1)}`
    console.log(
      `  ${o.phase.name.padEnd(15)} workers ${per(o.cpuPct.workers)}, redis ${per(o.cpuPct.redis)}, producer ${per(o.cpuPct.producer)}`,
    )
  }

  const ratio = (a: Outcome | undefined, b: Outcome | undefined) =>
    a && b && b.processedPerSecond > 0 ? a.processedPerSecond / b.processedPerSecond : undefined
  console.log('\nReal ÷ naive:')
  console.log(`  capacity (closed loop)      ${fmt.ratio(ratio(realCap, naiveCap))}`)
  console.log(`  sustained (open loop)       ${fmt.ratio(ratio(realSteady, naiveSteady))}`)

  console.log('\nTargets:')
  const verdict = (ok: boolean) => (ok ? 'MET' : 'NOT MET')
  if (realSteady) {
    const ok = held(realSteady)
    console.log(
      `  ≥ 30,000 events/s sustained, one workers process: ${fmt.int(realSteady.processedPerSecond)} events/s processed at ` +
        `${fmt.int(realSteady.offeredPerSecond)} offered for ${realSteady.wallS.toFixed(0)} s (${ok ? 'held' : 'not held'}) → ` +
        `${verdict(ok && realSteady.processedPerSecond >= 30_000)}` +
        (realCap ? `; capacity at a bounded backlog ${fmt.int(realCap.processedPerSecond)}` : ''),
    )
    const r = ratio(realSteady, naiveSteady)
    if (r !== undefined) {
      console.log(`  ≥ 5× the naive design: ${fmt.ratio(r)} sustained → ${verdict(r >= 5)}`)
    }
    console.log(
      `  lag bounded: stream lag max ${fmt.int(realSteady.streamMax)} final ${fmt.int(realSteady.streamFinal)} entries; ` +
        `queue max ${fmt.int(realSteady.queueMax)} final ${fmt.int(realSteady.queueFinal)} jobs; backlog max ` +
        `${fmt.int(realSteady.backlogMax)} final ${fmt.int(realSteady.backlogFinal)} events, fitted growth ${fmt.int(realSteady.backlogSlope)} events/s → ${verdict(held(realSteady))}`,
    )
    const m = realSteady.memory
    if (m) {
      const growth = m.slopeMbPerMin * (realSteady.wallS / 60)
      const flat = growth < 0.05 * ((m.firstMb + m.lastMb) / 2)
      console.log(
        `  memory flat over ${realSteady.wallS.toFixed(0)} s: workers RSS first ${m.firstMb.toFixed(1)} MB, last ${m.lastMb.toFixed(1)} MB, ` +
          `max ${m.maxMb.toFixed(1)} MB, slope ${m.slopeMbPerMin.toFixed(2)} MB/min (fitted growth ${growth.toFixed(1)} MB; flat = < 5% of RSS) → ${verdict(flat)}`,
      )
    }
    console.log(
      `  latency receivedAt → profile updated at ${fmt.int(realSteady.offeredPerSecond)} events/s: p50 ${fmt.ms(realSteady.latency.p50)} ms, ` +
        `p99 ${fmt.ms(realSteady.latency.p99)} ms (naive at ${fmt.int(naiveSteady?.offeredPerSecond)}: p50 ${fmt.ms(naiveSteady?.latency.p50)} ms, p99 ${fmt.ms(naiveSteady?.latency.p99)} ms)`,
    )
  }
  for (const o of outcomes.values()) {
    if (!o.commands) {
      continue
    }
    const total = o.commands.reduce((sum, c) => sum + c.usec, 0)
    const calls = o.commands.reduce((sum, c) => sum + c.calls, 0)
    const events = o.processedPerSecond * o.wallS
    console.log(
      `\nRedis time by top-level command, ${o.phase.name} window (${fmt.int(calls)} commands logged, ` +
        `shares of the time Redis logged${calls >= COMMAND_LOG_MAX ? '; log full, oldest dropped' : ''}):`,
    )
    // The log's durations are wall time (and include logging itself); its shares, applied to
    // the CPU Redis really used per event (/proc), estimate each command's CPU per event.
    const redisPerEvent =
      o.cpuPct.redis === undefined || o.processedPerSecond === 0
        ? undefined
        : ((o.cpuPct.redis / 100) * 1e6) / o.processedPerSecond
    for (const c of o.commands.slice(0, 12)) {
      const share = c.usec / Math.max(1, total)
      console.log(
        `  ${(share * 100).toFixed(1).padStart(5)}%  ${c.name.padEnd(30)} ${(c.calls / Math.max(1, events)).toFixed(2).padStart(6)} calls/event` +
          (redisPerEvent === undefined
            ? ''
            : `  ≈ ${(share * redisPerEvent).toFixed(1).padStart(6)} µs Redis CPU/event`),
      )
    }
  }
  for (const o of outcomes.values()) {
    if (!o.profileFile) {
      continue
    }
    const summary = summariseProfile(o.profileFile, REPO_ROOT)
    console.log(
      `\nCPU profile of the workers process, ${o.phase.name} window (${fmt.int(summary.totalMs)} ms sampled): ${o.profileFile}`,
    )
    const list = (title: string, items: { name: string; ms: number }[]) => {
      console.log(`  ${title}:`)
      for (const { name, ms } of items) {
        console.log(`    ${((ms / summary.totalMs) * 100).toFixed(1).padStart(5)}%  ${name}`)
      }
    }
    list('self time by module', summary.modules)
    list('self time by function', summary.functions)
    list('total time by function (self + callees)', summary.inclusive)
  }
}

async function startWorkersChild(design: Design, prefix: string): Promise<Child> {
  if (design === 'real') {
    const child = startChild('pipeline-workers.ts', [
      '--prefix',
      prefix,
      '--partitions',
      String(partitions),
    ])
    // The embedded database takes ~10–20 s to create on a small machine.
    const ready = (await child.next(180_000)) as { startupMs?: number }
    console.log(
      `  workers process ${child.pid} ready in ${((ready.startupMs ?? 0) / 1000).toFixed(1)} s (real startWorkers, PGlite in a temp dir)`,
    )
    return child
  }
  const child = startChild('pipeline-naive.ts', [
    '--prefix',
    prefix,
    '--concurrency',
    String(values['naive-concurrency']),
    '--queue',
    NAIVE_QUEUE,
  ])
  await child.next(60_000)
  console.log(
    `  naive workers process ${child.pid} ready (concurrency ${values['naive-concurrency']})`,
  )
  return child
}

/**
 * Redis's own time per command over a design's whole run (INFO commandstats, reset before it),
 * per event processed: where Redis CPU goes. Only on a private server, whose stats are ours.
 * EVALSHA lumps every Lua script together (pump, append, profile, recommendations).
 */
async function printCommandStats(redis: Redis, design: Design, events: number): Promise<void> {
  const info = await redis.info('commandstats')
  const rows = [...info.matchAll(/^cmdstat_(\S+?):calls=(\d+),usec=(\d+)/gm)].map((m) => ({
    command: m[1] ?? '',
    calls: Number(m[2]),
    usec: Number(m[3]),
  }))
  const total = rows.reduce((sum, r) => sum + r.usec, 0)
  rows.sort((a, b) => b.usec - a.usec)
  // Shares of a total that counts script internals twice only say which commands dominate.
  console.log(
    `  Redis INFO commandstats over the ${design} run, per event (${fmt.int(events)} events; wall time inside Redis, ` +
      'and commands run by a script count both on their own and within EVALSHA):',
  )
  for (const r of rows.slice(0, 8)) {
    console.log(
      `    ${r.command.padEnd(18)} ${(r.calls / Math.max(1, events)).toFixed(2).padStart(7)} calls/event  ${(r.usec / Math.max(1, events)).toFixed(1).padStart(7)} µs/event  ${((r.usec / Math.max(1, total)) * 100).toFixed(0).padStart(3)}%`,
    )
  }
}

async function usedMemoryMb(redis: Redis): Promise<number> {
  const info = await redis.info('memory')
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0) / 2 ** 20
}

let ownRedis: OwnRedis | undefined

async function main(): Promise<void> {
  const url = new URL(SHARED_REDIS_URL)
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(url.hostname)) {
    throw new Error(
      `REDIS_URL must point at this machine (loopback) so redis-server's CPU can be read; got ${url.hostname}`,
    )
  }
  if (!values['shared-redis'] && canStartRedis()) {
    ownRedis = await startOwnRedis()
  }
  const redisUrl = ownRedis?.url ?? SHARED_REDIS_URL
  // Every child reads REDIS_URL from the environment it inherits.
  process.env.REDIS_URL = redisUrl
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  // Errors surface through the commands that fail; after an interrupt the server may be gone.
  redis.on('error', () => undefined)
  await redis.connect()
  const info = await redis.info('server')
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
  const reportedPid = Number(/process_id:(\d+)/.exec(info)?.[1])
  const redisPid = processName(reportedPid) === 'redis-server' ? reportedPid : undefined

  const m = machine()
  console.log('Nudge pipeline bench')
  console.log(`  machine  ${m.cpu}, ${m.cores} cores, ${m.memory}, ${m.os}`)
  console.log(
    `  software Node ${m.node}, Redis ${redisVersion} at ${redisUrl}${redisPid ? ` (pid ${redisPid})` : ' (pid not visible here: redis CPU n/a)'}` +
      (ownRedis ? ', a private redis-server started for this run' : ', shared'),
  )
  console.log(
    `  load avg ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at start; Redis used_memory ${(await usedMemoryMb(redis)).toFixed(0)} MB`,
  )
  console.log(
    `  traffic  requests of ${eventsPerRequest} OTTO-derived events of one shopper (CC BY 4.0 © OTTO), ${fmt.int(Number(values.shoppers))} shoppers, ` +
      `${partitions} partitions; warm-up ${warmupS} s, capacity ${capacityS} s, steady ${steadyS} s (real) / ${naiveSteadyS} s (naive)`,
  )
  const profileDir = values.profile
    ? await mkdtemp(join(os.tmpdir(), 'nudge-bench-pipeline-prof-'))
    : undefined
  const designs: Design[] =
    values.only === 'real' ? ['real'] : values.only === 'naive' ? ['naive'] : ['real', 'naive']
  try {
    for (const design of designs) {
      const prefix = `${runPrefix}${design}:`
      if (ownRedis) {
        await redis.config('RESETSTAT')
      }
      const workers = await startWorkersChild(design, prefix)
      try {
        for (const phase of phases.filter((p) => p.design === design)) {
          unlessInterrupted()
          const waitQuietS = Number(values['wait-quiet'])
          if (waitQuietS > 0) {
            const waited = await waitForQuiet(waitQuietS)
            if (waited === undefined || waited > 2.5) {
              console.log(
                waited === undefined
                  ? `  (still busy after ${waitQuietS} s of waiting; measuring anyway)`
                  : `  (waited ${waited.toFixed(0)} s for other processes to go quiet)`,
              )
            }
          }
          const outcome = await runPhase(phase, {
            redis,
            redisPid,
            workers,
            prefix,
            profileDir,
            commandLog: Boolean(profileDir && ownRedis),
          })
          outcomes.set(phase.name, outcome)
          printOutcome(outcome)
        }
      } finally {
        await stopChild(workers, 0)
        if (ownRedis && !interrupted) {
          const events = phases
            .filter((p) => p.design === design)
            .reduce((sum, p) => sum + (outcomes.get(p.name)?.totalEvents ?? 0), 0)
          await printCommandStats(redis, design, events)
        }
        console.log(
          `  Redis used_memory after ${design}: ${(await usedMemoryMb(redis)).toFixed(0)} MB; deleting its ${fmt.int(await deleteKeys(redis, prefix))} keys`,
        )
      }
    }
  } finally {
    await Promise.all(running().map((child) => stopChild(child, 0)))
    await deleteKeys(redis, runPrefix).catch(() => undefined)
    redis.disconnect()
    await ownRedis?.stop()
  }
  report()
  console.log(
    `\n  load avg ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at end`,
  )
}

const interrupt = () => {
  if (interrupted) {
    return
  }
  interrupted = true
  // The run unwinds through main's cleanup once its children are gone; this bounds the wait.
  setTimeout(() => process.exit(130), 30_000).unref()
  for (const child of running()) {
    process.kill(child.pid, 'SIGTERM')
  }
  // main's cleanup stops it too; this covers an interrupt before main got that far.
  setTimeout(() => void ownRedis?.stop(), 25_000).unref()
}
process.on('SIGINT', interrupt)
process.on('SIGTERM', interrupt)

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (interrupted) {
      console.error('bench:pipeline interrupted; its children are stopped and its keys deleted.')
      process.exit(130)
    }
    console.error(`bench:pipeline failed: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  },
)
