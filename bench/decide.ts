/**
 * @module `npm run bench:decide`: what 1,000 active offer rules add to the cost of processing
 * an event, and how fast a rule change reaches the workers.
 *
 * 1. Cost: OTTO sample traffic (bench/otto.ts, 20 events per job) runs through two copies of
 *    the real events pipeline in one process, job by job in alternation so machine noise hits
 *    both alike: `baseline` (profiles + recommendations, no rules) and `rules` (the same plus
 *    the offers step with 1,000 active rules of mixed shapes: windowed counts, profile facts,
 *    page and event properties, time of day, nested groups; caps, cooldowns, holdouts). Each
 *    copy has its own key prefix, so both see identical, growing profiles. Printed: per-event
 *    processing cost (median over jobs), p99 job time, decisions/s and the overhead ratio.
 * 2. Propagation: three rule caches (three workers) subscribed to `rules:changed`; one rule is
 *    paused in PostgreSQL and announced; printed is the time until every cache has dropped it.
 *
 * Needs Redis and PostgreSQL on this machine (REDIS_URL, DATABASE_URL; defaults
 * redis://127.0.0.1:6379 and postgres://postgres@127.0.0.1:5432/test). Keys live under
 * `bench:decide:<run>:` and tables in schema `bench_<run>`; both are deleted at the end, also on
 * Ctrl-C.
 *
 * OTTO's event times span four weeks before now, so by default most events are older than a day
 * when the bench "receives" them, and the offers step decides nothing on them (as for an import):
 * rules are evaluated on about a fifth of the events. `--live` stamps every event as received
 * when it happened, so rules are evaluated on all of them, as on a live site.
 *
 * Usage: npm run bench:decide -- [--jobs 3000] [--rules 1000] [--warmup 200] [--live]
 *   [--only baseline|rules] [--skip-reload]
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { Client } from 'pg'
import { createDb } from '../drizzle/client'
import { createRule, setRuleStatus } from '../drizzle/queries/rules'
import { createSite } from '../drizzle/queries/sites'
import { loadConfig } from '../runtime/config'
import { createLogger } from '../runtime/logger'
import { createBlockingRedis, createRedis, waitReady } from '../runtime/redis'
import { createSecretBox } from '../runtime/secret-box'
import { deriveServerKeys } from '../runtime/secret-key'
import { type StoredEvent, storedEvent } from '../streams/events'
import { createKeys } from '../streams/keys'
import { type LoadedRule, ruleInput } from '../streams/rules'
import { createEventsPipeline } from '../workers/main'
import { indexRules, startRuleCache } from '../workers/offers/rule-cache'
import { profileOf } from '../workers/processors/profile'
import { benchRule } from './decide-rules'
import { latencyOf, machine } from './measure'
import { buildBatches, loadSample } from './otto'

const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '3000' },
    rules: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '200' },
    'skip-reload': { type: 'boolean', default: false },
    only: { type: 'string' },
    live: { type: 'boolean', default: false },
  },
})
const JOBS = Number(args.jobs)
const RULES = Number(args.rules)
const WARMUP = Number(args.warmup)
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? Number.NaN
}

async function main(): Promise<void> {
  const run = randomBytes(4).toString('hex')
  const prefix = `bench:decide:${run}:`
  const schema = `bench_${run}`
  const redis = createRedis(REDIS_URL, { commandTimeoutMs: 10_000 })
  await waitReady(redis, 5_000)
  const database = await createDb({ databaseUrl: DATABASE_URL, dataDir: '.data', schema })
  const logger = createLogger({ level: 'silent', role: 'bench' })
  const cleanup = async () => {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) {
        await redis.unlink(...keys)
      }
    } while (cursor !== '0')
    await database.close()
    const client = new Client({ connectionString: DATABASE_URL })
    await client.connect()
    await client.query(`drop schema if exists ${schema} cascade`)
    await client.end()
    redis.disconnect()
  }
  process.once('SIGINT', () => {
    cleanup().finally(() => process.exit(130))
  })
  try {
    const box = createSecretBox(deriveServerKeys(randomBytes(32)).seal)
    const { site } = await createSite(database.db, { name: 'Bench', allowedOrigins: [], box })
    const config = loadConfig({ NUDGE_KEY_PREFIX: prefix, LOG_LEVEL: 'silent' })

    // Traffic: OTTO sessions as stored events of this site, 20 per job.
    const batches = buildBatches(loadSample(), 20, Date.now())
    const jobs: StoredEvent[][] = []
    for (let j = 0; jobs.length < JOBS + WARMUP; j++) {
      const batch = batches[j % batches.length] ?? []
      const round = Math.floor(j / batches.length)
      jobs.push(
        batch.map((e) =>
          storedEvent.parse({
            ...e,
            id: `${e.id}-${round}`,
            anonymousId: `${e.anonymousId}-${round}`,
            // See the module comment: by default most events look imported to the offers step.
            receivedAt: args.live ? e.ts : Date.now(),
            siteId: site.id,
            verified: false,
          }),
        ),
      )
    }

    // Rules: compiled straight into an index (their storage is measured in part 2).
    const loaded: (LoadedRule & { timezone: string })[] = Array.from({ length: RULES }, (_, i) => ({
      ...ruleInput.parse(benchRule(i)),
      id: `rul_bench${i}`,
      siteId: site.id,
      version: 1,
      status: 'active' as const,
      timezone: 'Europe/Berlin',
    }))
    const index = indexRules(loaded)
    /** Events the rules were evaluated on (those not too old to decide on). */
    let decided = 0
    let decidedInWarmup = 0
    const keysBase = createKeys(`${prefix}base:`)
    const keysRules = createKeys(`${prefix}rules:`)
    const baseline = createEventsPipeline({ config, redis, keys: keysBase })
    const withRules = createEventsPipeline({
      config,
      redis,
      keys: keysRules,
      offers: {
        deps: {
          redis,
          keys: keysRules,
          rules: () => index,
          profileOf,
          attributionMs: 86_400_000,
          maxEventAgeMs: Number.POSITIVE_INFINITY,
          profileTtlMs: config.NUDGE_PROFILE_TTL,
          onDecision: () => {
            decided++
          },
        },
        db: database.db,
      },
    })
    // Per job and scenario: wall time, this process's CPU, and Redis's CPU (INFO used_cpu_*,
    // so other clients of a shared Redis add noise: read medians).
    type Sample = { wall: number; cpu: number; redisCpu: number }
    const samples = { baseline: [] as Sample[], rules: [] as Sample[] }
    const redisCpuMs = async () => {
      const info = await redis.info('cpu')
      const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0)
      return (field('used_cpu_user') + field('used_cpu_sys')) * 1000
    }
    let evaluated = 0
    for (const [j, job] of jobs.entries()) {
      if (j === WARMUP) {
        decidedInWarmup = decided
      }
      // Alternate which copy goes first, so neither always runs on a warmer cache.
      const order =
        j % 2 === 0 ? (['baseline', 'rules'] as const) : (['rules', 'baseline'] as const)
      for (const which of order) {
        if (args.only !== undefined && args.only !== which) {
          continue
        }
        const redisBefore = await redisCpuMs()
        const cpuBefore = process.cpuUsage()
        const started = performance.now()
        await (which === 'baseline' ? baseline : withRules)({
          partition: 0,
          entryId: `${j + 1}-0`,
          events: job,
        })
        const wall = performance.now() - started
        const cpu = process.cpuUsage(cpuBefore)
        const redisCpu = (await redisCpuMs()) - redisBefore
        if (j >= WARMUP) {
          samples[which].push({ wall, cpu: (cpu.user + cpu.system) / 1000, redisCpu })
        }
      }
      if (j >= WARMUP) {
        evaluated += job.filter((e) => index.get(site.id)?.immediate.has(e.type)).length
      }
    }
    let delivered = 0
    let cursor = '0'
    do {
      const [next, inboxes] = await redis.scan(
        cursor,
        'MATCH',
        `${prefix}rules:profile:*:inbox`,
        'COUNT',
        1000,
      )
      cursor = next
      for (const inbox of inboxes) {
        delivered += await redis.xlen(inbox)
      }
    } while (cursor !== '0')
    /** Median per job, in µs per event. */
    const per = (xs: Sample[], pick: (s: Sample) => number) => (median(xs.map(pick)) / 20) * 1000
    const cost = (xs: Sample[]) => per(xs, (s) => s.cpu) + per(xs, (s) => s.redisCpu)
    const m = machine()
    console.log(`bench:decide on ${m.cpu}, ${m.cores} cores, ${m.memory}, Node ${m.node}`)
    console.log(
      `${JOBS} jobs × 20 OTTO events (after ${WARMUP} warm-up jobs), ${RULES} active rules; medians per job`,
    )
    console.log('')
    console.log(
      'scenario   worker CPU µs/ev   Redis CPU µs/ev   CPU total µs/ev   wall µs/ev   job p99 ms',
    )
    for (const [name, xs] of [
      ['baseline', samples.baseline],
      ['rules', samples.rules],
    ] as const) {
      console.log(
        `${name.padEnd(10)} ${per(xs, (s) => s.cpu)
          .toFixed(1)
          .padStart(16)} ${per(xs, (s) => s.redisCpu)
          .toFixed(1)
          .padStart(17)} ${cost(xs).toFixed(1).padStart(17)} ${per(xs, (s) => s.wall)
          .toFixed(1)
          .padStart(12)} ${latencyOf(xs.map((s) => s.wall))
          .p99.toFixed(2)
          .padStart(12)}`,
      )
    }
    const ratio = cost(samples.rules) / cost(samples.baseline) - 1
    console.log('')
    console.log(
      `rules add ${(ratio * 100).toFixed(1)}% to the CPU cost of an event (worker + Redis; target < 10%)`,
    )
    console.log(
      `decisions: ${evaluated} events met candidate rules, rules evaluated on ${decided - decidedInWarmup} (the others too old to decide on; see --live), ${(((decided - decidedInWarmup) / samples.rules.reduce((a, s) => a + s.cpu, 0)) * 1000).toFixed(0)} decisions per CPU-second of the worker; ${delivered} offers delivered`,
    )

    if (args['skip-reload']) {
      return
    }
    // Part 2: a change reaches three workers.
    const stored = []
    for (let i = 0; i < RULES; i++) {
      stored.push(
        await createRule(database.db, {
          siteId: site.id,
          spec: ruleInput.parse(benchRule(i)),
          status: 'active',
          actor: 'bench',
        }),
      )
    }
    const keys = createKeys(prefix)
    const caches = await Promise.all(
      [0, 1, 2].map(() =>
        startRuleCache({
          db: database.db,
          keys,
          subscriber: createBlockingRedis(REDIS_URL, 'bench-rules'),
          logger,
        }),
      ),
    )
    const reloads: number[] = []
    for (const rule of stored.slice(0, 5)) {
      const started = performance.now()
      await setRuleStatus(database.db, {
        siteId: site.id,
        id: rule.id,
        status: 'paused',
        actor: 'bench',
      })
      await redis.publish(keys.rulesChanged(), site.id)
      while (caches.some((c) => c.get().get(site.id)?.byId.has(rule.id))) {
        await new Promise((r) => setTimeout(r, 1))
      }
      reloads.push(performance.now() - started)
    }
    await Promise.all(caches.map((c) => c.close()))
    console.log(
      `rule change → all 3 workers reloaded ${RULES} rules: median ${median(reloads).toFixed(0)} ms, max ${Math.max(...reloads).toFixed(0)} ms over ${reloads.length} changes (target < 1000 ms)`,
    )
  } finally {
    await cleanup()
  }
}

await main()
