/**
 * @module `npm run bench:ingest`: how many events one api process ingests, how fast it answers
 * at a fixed 50k events/s, and whether its memory stays flat, next to two ceilings measured in
 * the same run on the same machine. See bench/README.md for what each scenario means.
 *
 * Every scenario runs in child processes started here (api server, load generator, or the
 * straight-XADD writer) so that CPU is read per process from /proc, like redis-server's. Each
 * child is stopped by its pid, each key written is deleted, and the run ends by itself.
 *
 * Usage: npm run bench:ingest -- [--quick] [--duration 10] [--memory-duration 60] [--warmup 3]
 *   [--concurrency 16] [--rate 50000] [--runs 1] [--only api,api-open] [--profile] [--wait-quiet 60]
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { cpuMs, machine, machineBusyMs, processName, rssBytes, slope } from './measure'
import { summariseProfile } from './profile'
import { deleteKeys, type LoadResult, type ServerReady, sleep } from './protocol'

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url))
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url))
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const BATCH = 20

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    'memory-duration': { type: 'string' },
    warmup: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    rate: { type: 'string', default: '50000' },
    runs: { type: 'string', default: '1' },
    only: { type: 'string' },
    pipeline: { type: 'string', default: '100' },
    inflight: { type: 'string', default: '4' },
    profile: { type: 'boolean', default: false },
    'wait-quiet': { type: 'string', default: '0' },
    help: { type: 'boolean', default: false },
  },
})

if (values.help) {
  console.log(
    'npm run bench:ingest -- [--quick] [--duration s] [--memory-duration s] [--warmup s] [--concurrency C]\n' +
      '  [--rate events/s] [--runs N] [--only name,name] [--pipeline N] [--inflight N] [--profile]\n' +
      '  [--wait-quiet s]   before each scenario, wait up to s seconds for other processes to go quiet',
  )
  process.exit(0)
}

const seconds = (flag: string | undefined, normal: number, quick: number) =>
  flag === undefined ? (values.quick ? quick : normal) : Number(flag)
const durationS = seconds(values.duration, 10, 3)
const memoryDurationS = seconds(values['memory-duration'], 60, 5)
const warmupS = seconds(values.warmup, 3, 1)
const concurrency = Number(values.concurrency)
const targetRate = Number(values.rate)
const runs = Math.max(1, Number(values.runs))
const runId = randomBytes(4).toString('hex')

type Scenario = {
  name: string
  /** What it measures; a function because some rates are only known once earlier runs are in. */
  what(): string
  /** Absent: no api in this scenario (the XADD ceiling). */
  server?: { noAppend: boolean }
  script: 'load.ts' | 'xadd.ts'
  args(): string[]
  seconds: number
}

/** Events/s the api sustained closed-loop in this run (median so far), for the half-load run. */
let apiCapacity: number | undefined

/** Half the measured capacity, in whole thousands of events/s: a load the api should carry. */
const halfRate = () => Math.max(1000, Math.round((apiCapacity ?? 10_000) / 2 / 1000) * 1000)

const scenarios: Scenario[] = [
  {
    name: 'xadd',
    what: () =>
      `(a) ceiling: XADD per event, pipelined ioredis (${values.pipeline}/pipeline × ${values.inflight} in flight), no api`,
    script: 'xadd.ts',
    args: () => ['--pipeline', String(values.pipeline), '--inflight', String(values.inflight)],
    seconds: durationS,
  },
  {
    name: 'api-no-append',
    what: () =>
      `(b) ceiling: api with appends off (parse + validate), closed loop C=${concurrency}`,
    server: { noAppend: true },
    script: 'load.ts',
    args: () => ['--mode', 'closed', '--concurrency', String(concurrency)],
    seconds: durationS,
  },
  {
    name: 'api',
    what: () => `api, appends on, closed loop C=${concurrency}`,
    server: { noAppend: false },
    script: 'load.ts',
    args: () => ['--mode', 'closed', '--concurrency', String(concurrency)],
    seconds: durationS,
  },
  {
    name: 'api-open-half',
    what: () =>
      `api, appends on, open loop at half the capacity measured by "api": ${halfRate() / BATCH} req/s = ${halfRate()} events/s`,
    server: { noAppend: false },
    script: 'load.ts',
    args: () => ['--mode', 'open', '--rate', String(halfRate() / BATCH)],
    seconds: durationS,
  },
  {
    name: 'api-open',
    what: () =>
      `api, appends on, open loop ${targetRate / BATCH} req/s = ${targetRate} events/s, ${memoryDurationS} s, RSS each second`,
    server: { noAppend: false },
    script: 'load.ts',
    args: () => ['--mode', 'open', '--rate', String(targetRate / BATCH)],
    seconds: memoryDurationS,
  },
]

type Cpu = { api?: number; apiMain?: number; load?: number; redis?: number; busy?: number }
type Memory = {
  firstMb: number
  lastMb: number
  maxMb: number
  slopeMbPerMin: number
  samples: number
}
type Outcome = {
  scenario: Scenario
  result: LoadResult
  wallMs: number
  /** CPU % of one core in the window, per process, and what everything else on the machine took. */
  cpuPct: { api?: number; apiMain?: number; load?: number; redis?: number; others?: number }
  memory?: Memory
  profile?: string
}

type Child = {
  pid: number
  script: string
  /** The child's next protocol line; rejects on timeout or when the child exits first. */
  next(timeoutMs: number): Promise<unknown>
  exited: Promise<number | null>
  /** Sends a message over the IPC channel (ignored once the child is gone). */
  send(message: object): void
}

/** Every child still running, by pid, so an interrupted run stops exactly these. */
const children = new Map<number, Child>()

function startChild(script: string, args: string[], nodeFlags: string[] = []): Child {
  const proc: ChildProcess = spawn(
    process.execPath,
    [...nodeFlags, '--import', 'tsx', join(BENCH_DIR, script), ...args],
    { cwd: REPO_ROOT, env: process.env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  )
  const pid = proc.pid
  if (pid === undefined) {
    throw new Error(`could not start ${script}`)
  }
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => {
      children.delete(pid)
      resolve(code)
    })
  })
  const queue: unknown[] = []
  const waiters: ((message: unknown) => void)[] = []
  if (proc.stdout) {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      let message: unknown
      try {
        message = JSON.parse(line)
      } catch {
        process.stderr.write(`${script}: ${line}\n`)
        return
      }
      const waiter = waiters.shift()
      if (waiter) {
        waiter(message)
      } else {
        queue.push(message)
      }
    })
  }
  const next = (timeoutMs: number) => {
    if (queue.length > 0) {
      return Promise.resolve(queue.shift())
    }
    return new Promise<unknown>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer)
        const index = waiters.indexOf(waiter)
        if (index >= 0) {
          waiters.splice(index, 1)
        }
      }
      const waiter = (message: unknown) => {
        done()
        resolve(message)
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`${script} said nothing for ${timeoutMs} ms`))
      }, timeoutMs)
      waiters.push(waiter)
      void exited.then((code) => {
        if (waiters.includes(waiter)) {
          done()
          reject(new Error(`${script} exited (code ${code}) before it was done`))
        }
      })
    })
  }
  const send = (message: object) => {
    if (proc.connected) {
      proc.send(message)
    }
  }
  const child: Child = { pid, script, next, exited, send }
  children.set(pid, child)
  return child
}

/**
 * Lets the child finish on its own for `ownMs`, then sends SIGTERM, then SIGKILL if it has not
 * exited within `graceMs`.
 */
async function stopChild(child: Child, ownMs: number, graceMs = 20_000): Promise<void> {
  const gone = () => !children.has(child.pid)
  const wait = (ms: number) => Promise.race([child.exited, sleep(ms)])
  if (ownMs > 0) {
    await wait(ownMs)
  }
  if (gone()) {
    return
  }
  process.kill(child.pid, 'SIGTERM')
  await wait(graceMs)
  if (!gone()) {
    process.kill(child.pid, 'SIGKILL')
    await child.exited
  }
}

function snapshot(pids: { api?: number; load: number; redis?: number }): Cpu {
  return {
    api: pids.api === undefined ? undefined : cpuMs(pids.api),
    apiMain: pids.api === undefined ? undefined : cpuMs(pids.api, pids.api),
    load: cpuMs(pids.load),
    redis: pids.redis === undefined ? undefined : cpuMs(pids.redis),
    busy: machineBusyMs(),
  }
}

function pct(before: number | undefined, after: number | undefined, wallMs: number) {
  return before === undefined || after === undefined ? undefined : ((after - before) / wallMs) * 100
}

async function runScenario(
  scenario: Scenario,
  ctx: { redisPid?: number; dataDir: string; profileDir?: string; index: number },
): Promise<Outcome> {
  let server: Child | undefined
  let ready: ServerReady | undefined
  if (scenario.server) {
    const args = ['--prefix', `bench:${runId}:${ctx.index}:`, '--data-dir', ctx.dataDir]
    if (scenario.server.noAppend) {
      args.push('--no-append')
    }
    server = startChild('api-server.ts', args)
    // The first server of a run initialises the embedded database (~20 s on a small machine).
    ready = (await server.next(120_000)) as ServerReady
  }
  const load = ready
    ? startChild('load.ts', [
        '--url',
        `http://127.0.0.1:${ready.port}`,
        `--write-key=${ready.writeKey}`,
        '--warmup',
        String(warmupS),
        '--duration',
        String(scenario.seconds),
        ...scenario.args(),
      ])
    : startChild('xadd.ts', [
        '--prefix',
        `bench:${runId}:${ctx.index}:`,
        '--warmup',
        String(warmupS),
        '--duration',
        String(scenario.seconds),
        ...scenario.args(),
      ])
  const pids = { api: ready?.pid, load: load.pid, redis: ctx.redisPid }
  const timeoutMs = (warmupS + scenario.seconds + 30) * 1000
  try {
    await load.next(timeoutMs)
    const before = snapshot(pids)
    const started = performance.now()
    const profileFile =
      server && ctx.profileDir
        ? join(ctx.profileDir, `${ctx.index}-${scenario.name}.cpuprofile`)
        : undefined
    if (profileFile) {
      server?.send({ profile: 'start' })
    }
    const rss: [number, number][] = []
    const sampleRss = () => {
      const bytes = ready ? rssBytes(ready.pid) : undefined
      if (bytes !== undefined) {
        rss.push([(performance.now() - started) / 1000, bytes / 2 ** 20])
      }
    }
    sampleRss()
    const sampler = setInterval(sampleRss, 1000)
    await load.next(timeoutMs)
    const after = snapshot(pids)
    const wallMs = performance.now() - started
    clearInterval(sampler)
    sampleRss()
    if (profileFile) {
      server?.send({ profile: 'stop', file: profileFile })
    }
    const result = (await load.next(30_000)) as LoadResult
    const ours = [after.api, after.load, after.redis].reduce<number>((sum, v) => sum + (v ?? 0), 0)
    const oursBefore = [before.api, before.load, before.redis].reduce<number>(
      (sum, v) => sum + (v ?? 0),
      0,
    )
    const others =
      before.busy === undefined || after.busy === undefined
        ? undefined
        : ((after.busy - before.busy - (ours - oursBefore)) / wallMs) * 100
    const memory: Memory | undefined =
      rss.length === 0
        ? undefined
        : {
            firstMb: rss[0]?.[1] ?? 0,
            lastMb: rss[rss.length - 1]?.[1] ?? 0,
            maxMb: Math.max(...rss.map(([, mb]) => mb)),
            slopeMbPerMin: slope(rss) * 60,
            samples: rss.length,
          }
    return {
      scenario,
      result,
      wallMs,
      cpuPct: {
        api: pct(before.api, after.api, wallMs),
        apiMain: pct(before.apiMain, after.apiMain, wallMs),
        load: pct(before.load, after.load, wallMs),
        redis: pct(before.redis, after.redis, wallMs),
        others,
      },
      memory,
      profile:
        profileFile && server ? ((await server.next(30_000)) as { file: string }).file : undefined,
    }
  } finally {
    await stopChild(load, 5_000)
    if (server) {
      await stopChild(server, 0)
    }
  }
}

/**
 * On a shared machine, waits (at most `maxS` seconds) until everything else together uses under
 * 15% of one core over a 2 s sample, so a scenario does not start in the middle of someone's
 * build. Resolves to the seconds waited, or undefined when it gave up.
 */
async function waitForQuiet(maxS: number): Promise<number | undefined> {
  const started = performance.now()
  for (;;) {
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

const fmt = {
  int: (n: number | undefined) =>
    n === undefined || Number.isNaN(n) ? 'n/a' : Math.round(n).toLocaleString('en-US'),
  ms: (n: number | undefined) =>
    n === undefined || Number.isNaN(n) ? 'n/a' : n < 10 ? n.toFixed(2) : n.toFixed(1),
  pct: (n: number | undefined) =>
    n === undefined || Number.isNaN(n) ? 'n/a' : `${Math.round(n)}%`,
  ratio: (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a'),
}

function median(xs: readonly (number | undefined)[]): number | undefined {
  const sorted = xs
    .filter((x): x is number => x !== undefined && !Number.isNaN(x))
    .sort((a, b) => a - b)
  if (sorted.length === 0) {
    return undefined
  }
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

/** One scenario's figures over every run: medians. */
type Summary = {
  scenario: Scenario
  eventsPerSecond?: number
  requestsPerSecond?: number
  p50?: number
  p99?: number
  max?: number
  cpu: { api?: number; apiMain?: number; load?: number; redis?: number; others?: number }
  errors: Record<string, number>
  offeredPerSecond?: number
  memory?: Memory
}

function summarise(scenario: Scenario, outcomes: readonly Outcome[]): Summary {
  const errors: Record<string, number> = {}
  for (const o of outcomes) {
    for (const [key, n] of Object.entries(o.result.errors)) {
      errors[key] = (errors[key] ?? 0) + n
    }
  }
  const m = (pick: (o: Outcome) => number | undefined) => median(outcomes.map(pick))
  const withMemory = outcomes.map((o) => o.memory).filter((x): x is Memory => x !== undefined)
  return {
    scenario,
    eventsPerSecond: m((o) => o.result.eventsPerSecond),
    requestsPerSecond: m((o) => o.result.requestsPerSecond),
    p50: m((o) => o.result.latencyMs.p50),
    p99: m((o) => o.result.latencyMs.p99),
    max: m((o) => o.result.latencyMs.max),
    cpu: {
      api: m((o) => o.cpuPct.api),
      apiMain: m((o) => o.cpuPct.apiMain),
      load: m((o) => o.cpuPct.load),
      redis: m((o) => o.cpuPct.redis),
      others: m((o) => o.cpuPct.others),
    },
    errors,
    offeredPerSecond: m((o) =>
      o.result.offered === undefined ? undefined : (o.result.offered * BATCH) / o.result.seconds,
    ),
    memory:
      withMemory.length === 0
        ? undefined
        : {
            firstMb: median(withMemory.map((x) => x.firstMb)) ?? 0,
            lastMb: median(withMemory.map((x) => x.lastMb)) ?? 0,
            maxMb: median(withMemory.map((x) => x.maxMb)) ?? 0,
            slopeMbPerMin: median(withMemory.map((x) => x.slopeMbPerMin)) ?? 0,
            samples: median(withMemory.map((x) => x.samples)) ?? 0,
          },
  }
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

function printOutcome(o: Outcome, run: number): void {
  const r = o.result
  const errors = Object.keys(r.errors).length === 0 ? '' : ` errors ${JSON.stringify(r.errors)}`
  const memory = o.memory
    ? ` rss ${o.memory.firstMb.toFixed(0)}→${o.memory.lastMb.toFixed(0)} MB (max ${o.memory.maxMb.toFixed(0)}, ${o.memory.slopeMbPerMin.toFixed(1)} MB/min)`
    : ''
  console.log(
    `  run ${run} ${o.scenario.name}: ${fmt.int(r.eventsPerSecond)} events/s, p50 ${fmt.ms(r.latencyMs.p50)} ms, p99 ${fmt.ms(r.latencyMs.p99)} ms, ` +
      `cpu api ${fmt.pct(o.cpuPct.api)} (main ${fmt.pct(o.cpuPct.apiMain)}) load ${fmt.pct(o.cpuPct.load)} redis ${fmt.pct(o.cpuPct.redis)} others ${fmt.pct(o.cpuPct.others)}${memory}${errors}`,
  )
}

function report(summaries: readonly Summary[], profiles: readonly string[]): void {
  const by = (name: string) => summaries.find((s) => s.scenario.name === name)
  const rows = [
    [
      'scenario',
      'events/s',
      'req/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'api CPU',
      '(main)',
      'load CPU',
      'redis CPU',
      'others',
      'errors',
    ],
    ...summaries.map((s) => [
      s.scenario.name,
      fmt.int(s.eventsPerSecond),
      fmt.int(s.requestsPerSecond),
      fmt.ms(s.p50),
      fmt.ms(s.p99),
      fmt.ms(s.max),
      fmt.pct(s.cpu.api),
      fmt.pct(s.cpu.apiMain),
      fmt.pct(s.cpu.load),
      fmt.pct(s.cpu.redis),
      fmt.pct(s.cpu.others),
      Object.keys(s.errors).length === 0 ? '0' : JSON.stringify(s.errors),
    ]),
  ]
  console.log(
    `\nResults${runs > 1 ? ` (medians of ${runs} runs)` : ''}; CPU is % of one core; "(main)" is the api's main thread (the event loop), ` +
      '"others" every other process on the machine:\n',
  )
  console.log(table(rows))
  console.log('')
  for (const s of summaries) {
    console.log(`  ${s.scenario.name.padEnd(14)} ${s.scenario.what()}`)
  }
  console.log(
    '  (for xadd, "req/s" and latency are per pipeline round trip and "load CPU" is the writer)',
  )

  const api = by('api')
  const xadd = by('xadd')
  const dry = by('api-no-append')
  const open = by('api-open')
  console.log('\nCeilings, ratios and cost per event:')
  if (api?.eventsPerSecond !== undefined) {
    if (xadd?.eventsPerSecond !== undefined) {
      console.log(
        `  api ÷ (a) XADD ceiling        ${fmt.ratio(api.eventsPerSecond / xadd.eventsPerSecond)}`,
      )
    }
    if (dry?.eventsPerSecond !== undefined) {
      console.log(
        `  api ÷ (b) no-append ceiling   ${fmt.ratio(api.eventsPerSecond / dry.eventsPerSecond)}`,
      )
    }
  }
  for (const s of summaries) {
    const rate = s.eventsPerSecond
    if (!rate) {
      continue
    }
    const perEvent = (cpu: number | undefined) =>
      cpu === undefined ? 'n/a' : `${(((cpu / 100) * 1e6) / rate).toFixed(1)} µs`
    const producer = s.scenario.server
      ? `api ${perEvent(s.cpu.api)}`
      : `writer ${perEvent(s.cpu.load)}`
    console.log(
      `  ${s.scenario.name.padEnd(14)} CPU per event: ${producer}, redis ${perEvent(s.cpu.redis)}, load generator ${s.scenario.server ? perEvent(s.cpu.load) : '–'}`,
    )
  }

  console.log('\nTargets:')
  const verdict = (ok: boolean) => (ok ? 'MET' : 'NOT MET')
  if (api?.eventsPerSecond !== undefined) {
    console.log(
      `  ≥ 100,000 validated events/s from one api process: ${fmt.int(api.eventsPerSecond)} with appends on → ${verdict(api.eventsPerSecond >= 100_000)}` +
        (dry?.eventsPerSecond === undefined
          ? ''
          : `; ${fmt.int(dry.eventsPerSecond)} with appends off`),
    )
  }
  if (open?.eventsPerSecond !== undefined && open.p99 !== undefined) {
    const kept = open.eventsPerSecond >= 0.98 * targetRate
    console.log(
      `  p99 < 20 ms at ${fmt.int(targetRate)} events/s (open loop): p99 ${fmt.ms(open.p99)} ms at ${fmt.int(open.eventsPerSecond)} events/s served` +
        ` (${fmt.int(open.offeredPerSecond)} offered) → ${verdict(open.p99 < 20 && kept)}${kept ? '' : ' (the api did not keep up with the offered rate)'}`,
    )
  }
  const half = by('api-open-half')
  if (half?.p99 !== undefined) {
    console.log(
      `    for reference, at half the measured capacity (${fmt.int(half.offeredPerSecond)} events/s offered, ${fmt.int(half.eventsPerSecond)} served): ` +
        `p50 ${fmt.ms(half.p50)} ms, p99 ${fmt.ms(half.p99)} ms`,
    )
  }
  const memory = open?.memory
  if (memory) {
    const mean = (memory.firstMb + memory.lastMb) / 2
    const growth = memory.slopeMbPerMin * (memoryDurationS / 60)
    const flat = growth < 0.05 * mean
    console.log(
      `  memory flat over ${memoryDurationS} s: api RSS first ${memory.firstMb.toFixed(1)} MB, last ${memory.lastMb.toFixed(1)} MB, max ${memory.maxMb.toFixed(1)} MB, ` +
        `slope ${memory.slopeMbPerMin.toFixed(2)} MB/min (fitted growth ${growth.toFixed(1)} MB over the run; flat = < 5% of RSS) → ${verdict(flat)}`,
    )
  }
  for (const file of profiles) {
    const summary = summariseProfile(file, REPO_ROOT)
    console.log(
      `\nCPU profile ${file} (${fmt.int(summary.totalMs)} ms sampled, measured window only):`,
    )
    console.log('  self time by module:')
    for (const { name, ms } of summary.modules) {
      console.log(`    ${((ms / summary.totalMs) * 100).toFixed(1).padStart(5)}%  ${name}`)
    }
    console.log('  self time by function:')
    for (const { name, ms } of summary.functions) {
      console.log(`    ${((ms / summary.totalMs) * 100).toFixed(1).padStart(5)}%  ${name}`)
    }
    console.log('  total time by function (self + callees):')
    for (const { name, ms } of summary.inclusive) {
      console.log(`    ${((ms / summary.totalMs) * 100).toFixed(1).padStart(5)}%  ${name}`)
    }
  }
}

async function main(): Promise<void> {
  const url = new URL(REDIS_URL)
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(url.hostname)) {
    throw new Error(
      `REDIS_URL must point at this machine (loopback) so redis-server's CPU can be read; got ${url.hostname}`,
    )
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  const info = await redis.info('server')
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
  const reportedPid = Number(/process_id:(\d+)/.exec(info)?.[1])
  // In a container Redis reports its own namespace's pid; only trust it if it is redis-server here.
  const redisPid = processName(reportedPid) === 'redis-server' ? reportedPid : undefined

  const m = machine()
  console.log('Nudge ingest bench')
  console.log(`  machine  ${m.cpu}, ${m.cores} cores, ${m.memory}, ${m.os}`)
  console.log(
    `  software Node ${m.node}, Redis ${redisVersion} at ${REDIS_URL}${redisPid ? ` (pid ${redisPid})` : ' (pid not visible here: redis CPU n/a)'}`,
  )
  console.log(
    `  load avg ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at start`,
  )
  console.log(
    `  settings batches of ${BATCH} OTTO-derived events (CC BY 4.0 © OTTO), warm-up ${warmupS} s, ${durationS} s per throughput run, ` +
      `${memoryDurationS} s open-loop run, ${runs} run(s)`,
  )

  const dataDir = await mkdtemp(join(os.tmpdir(), 'nudge-bench-'))
  const profileDir = values.profile
    ? await mkdtemp(join(os.tmpdir(), 'nudge-bench-prof-'))
    : undefined
  const chosen = values.only
    ? scenarios.filter((s) => values.only?.split(',').includes(s.name))
    : scenarios
  const outcomes = new Map<string, Outcome[]>()
  const profiles: string[] = []
  let index = 0
  try {
    for (let run = 1; run <= runs; run++) {
      for (const scenario of chosen) {
        index += 1
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
        const outcome = await runScenario(scenario, { redisPid, dataDir, profileDir, index })
        printOutcome(outcome, run)
        outcomes.set(scenario.name, [...(outcomes.get(scenario.name) ?? []), outcome])
        if (scenario.name === 'api') {
          apiCapacity = median((outcomes.get('api') ?? []).map((o) => o.result.eventsPerSecond))
        }
        if (outcome.profile) {
          profiles.push(outcome.profile)
        }
      }
    }
  } finally {
    await Promise.all([...children.values()].map((child) => stopChild(child, 0)))
    await deleteKeys(redis, `bench:${runId}:`).catch(() => undefined)
    redis.disconnect()
    await rm(dataDir, { recursive: true, force: true })
  }
  report(
    chosen.flatMap((s) => {
      const list = outcomes.get(s.name)
      return list ? [summarise(s, list)] : []
    }),
    profiles,
  )
  console.log(
    `\n  load avg ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at end`,
  )
}

let interrupted = false
const interrupt = () => {
  if (interrupted) {
    return
  }
  interrupted = true
  // The run unwinds through main's cleanup once its children are gone; this bounds the wait.
  setTimeout(() => process.exit(130), 30_000).unref()
  for (const pid of children.keys()) {
    process.kill(pid, 'SIGTERM')
  }
}
process.on('SIGINT', interrupt)
process.on('SIGTERM', interrupt)

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (interrupted) {
      console.error('bench:ingest interrupted; its children are stopped and its keys deleted.')
      process.exit(130)
    }
    console.error(`bench:ingest failed: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  },
)
