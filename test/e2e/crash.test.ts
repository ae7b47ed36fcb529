/**
 * Crash test (issue 3, item 8; DESIGN "Nothing acknowledged is lost", "Nothing counts twice").
 *
 * Two real workers processes (`nudge start --role workers`, each a pump and a worker) consume
 * the log while the api (in process, on a real port) takes a few thousand events built from
 * real OTTO sessions, with client retries mixed in. Meanwhile the workers processes are
 * SIGKILLed at random moments and restarted after a short random pause. Once everything has
 * settled, every profile must equal the oracle computed from the events sent (test/oracle.ts):
 * counts exactly, decayed sums within floating-point noise.
 *
 * The plan (events, batches, retries, kill times and pauses) is a function of the seed, which is
 * printed; NUDGE_CRASH_SEED=<seed> replays it. Wall-clock timing cannot be replayed, so a
 * failure names its kills too.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { ClientEvent, StoredEvent } from '../../streams/events'
import { createKeys, GROUPS, type Keys, QUEUES } from '../../streams/keys'
import { profileKey } from '../../streams/partition'
import { DEFAULT_WEIGHTS } from '../../workers/domain/profile-delta'
import { bullPrefix } from '../../workers/main'
import { createEventsProcessor } from '../../workers/processors/events'
import { applyProfiles, PROFILE_LIMITS, type ProfileStore } from '../../workers/processors/profile'
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../db'
import {
  between,
  buildTraffic,
  createRng,
  type Request,
  readOttoSessions,
} from '../fixtures/otto-traffic'
import { basic, testApi } from '../harness'
import { diffProfile, expectedProfiles, type SentEvent, type StoredProfile } from '../oracle'
import { TEST_REDIS_URL, testRedis } from '../redis'
import { serveApp } from '../serve'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const GUARD = new URL('../fixtures/exit-with-parent.ts', import.meta.url).href
const SEED = Number(process.env.NUDGE_CRASH_SEED ?? 20_261_127)
const PARTITIONS = 4
/**
 * Kills per phase, at random moments of its sending window, each of a random running process:
 * phase 1 is the bulk of the traffic, phase 2 the logins (merges) and what follows them.
 */
const KILLS = { phase1: 2, phase2: 2 } as const
/** Long sessions are cut, for a few thousand events in all: enough load, a bounded run. */
const SESSION_CAP = 150
const PHASE1_MS = 10_000
const PHASE2_MS = 3_000
const IN_FLIGHT = 4
/** Bounds on every wait, well inside the test's own timeout. */
const BOOT_MS = 30_000
const SETTLE_MS = 30_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

function say(line: string): void {
  console.log(`[crash seed=${SEED}] ${line}`)
}

/** Polls until `check` resolves true; throws with `detail()` after `timeoutMs`. */
async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  detail: () => Promise<string> | string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${await detail()}`)
    }
    await sleep(100)
  }
}

type Slot = { name: string; child?: ChildProcess; ready: boolean }

/** Resolves as `promise` does, or rejects with `message` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The workers processes: spawn, wait until their pump has joined the group, SIGKILL by PID.
 * When the test ends, however it ends, nothing more is spawned and every child still alive is
 * SIGKILLed; each also exits by itself should this runner die (fixtures/exit-with-parent.ts).
 */
function createFleet(env: NodeJS.ProcessEnv, redis: Redis, keys: Keys) {
  const children = new Set<ChildProcess>()
  const logs: string[] = []
  let closed = false
  const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null
  onTestFinished(async () => {
    closed = true
    await Promise.all(
      [...children].filter(alive).map((child) => {
        const exited = once(child, 'exit')
        if (child.pid !== undefined) {
          process.kill(child.pid, 'SIGKILL')
        }
        return within(exited, 5_000, `pid ${child.pid} survived SIGKILL`)
      }),
    )
  })

  async function pumpJoined(pid: number): Promise<boolean> {
    try {
      const rows = (await redis.xinfo('CONSUMERS', keys.events(0), GROUPS.pipeline)) as unknown[][]
      return rows.some((row) => String(row[1]).endsWith(`-${pid}`))
    } catch {
      // The group does not exist until the first pump creates it.
      return false
    }
  }

  return {
    logs,
    /** True once the test has ended: the kill plan stops. */
    isClosed: () => closed,
    /** Spawns the slot's process and resolves once its pump reads the log. */
    async start(slot: Slot): Promise<void> {
      if (closed) {
        throw new Error(`the test is over; ${slot.name} is not restarted`)
      }
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--import', GUARD, 'bin/nudge.ts', 'start', '--role', 'workers'],
        { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] },
      )
      children.add(child)
      slot.child = child
      slot.ready = false
      const pid = child.pid
      if (pid === undefined) {
        throw new Error(`could not spawn ${slot.name}`)
      }
      const keep = (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) {
          if (line.trim() !== '') {
            logs.push(`${slot.name}/${pid}: ${line.slice(0, 400)}`)
          }
        }
      }
      child.stdout?.on('data', keep)
      child.stderr?.on('data', keep)
      await waitFor(
        `${slot.name} (pid ${pid}) to join the pipeline group`,
        BOOT_MS,
        async () => {
          if (!alive(child)) {
            throw new Error(`${slot.name} (pid ${pid}) exited while booting:\n${logs.join('\n')}`)
          }
          return pumpJoined(pid)
        },
        () => logs.slice(-20).join('\n'),
      )
      slot.ready = slot.child === child
    },
    /** SIGKILLs the slot's process by its PID and resolves with the PID once it is gone. */
    async kill(slot: Slot): Promise<number> {
      const child = slot.child
      if (!child || child.pid === undefined || !alive(child)) {
        throw new Error(`${slot.name} has no running process to kill`)
      }
      slot.ready = false
      const exited = once(child, 'exit')
      process.kill(child.pid, 'SIGKILL')
      await within(exited, 5_000, `${slot.name} (pid ${child.pid}) survived SIGKILL for 5 s`)
      return child.pid
    },
  }
}

type SendStats = { requests: number; accepted: number; duplicates: number; retried: number }

/** Sends requests at an even pace over `spanMs`, at most IN_FLIGHT at once, retrying 429/503. */
async function sendAll(
  url: string,
  keys: { writeKey: string; secret: string },
  requests: readonly Request[],
  spanMs: number,
  stats: SendStats,
): Promise<void> {
  const post = async (request: Request): Promise<void> => {
    const body = JSON.stringify({ events: request.events })
    for (let attempt = 1; ; attempt++) {
      const res = await fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: {
          authorization: basic(request.trusted ? keys.secret : keys.writeKey),
          'content-type': 'application/json',
        },
        body,
      })
      const text = await res.text()
      stats.requests += 1
      if (res.status === 200) {
        const answer = JSON.parse(text) as { accepted: number; duplicates: number; rejected: [] }
        expect(answer.rejected, text).toEqual([])
        stats.accepted += answer.accepted
        stats.duplicates += answer.duplicates
        return
      }
      // A real client retries these (DESIGN: 429/503 come with Retry-After); it is safe.
      if ((res.status === 429 || res.status === 503) && attempt < 10) {
        stats.retried += 1
        await sleep(Math.min(1_000, Number(res.headers.get('retry-after') ?? 1) * 1_000))
        continue
      }
      throw new Error(`POST /v1/events answered ${res.status}: ${text}`)
    }
  }
  const started = Date.now()
  const inFlight = new Set<Promise<void>>()
  const failures: unknown[] = []
  for (const [i, request] of requests.entries()) {
    await sleep(started + (i * spanMs) / requests.length - Date.now())
    while (inFlight.size >= IN_FLIGHT) {
      await Promise.race(inFlight)
    }
    const sends = request.twin ? [post(request), post(request)] : [post(request)]
    const done: Promise<void> = Promise.all(sends).then(
      () => {
        inFlight.delete(done)
      },
      (err: unknown) => {
        failures.push(err)
        inFlight.delete(done)
      },
    )
    inFlight.add(done)
  }
  await Promise.all(inFlight)
  if (failures.length > 0) {
    throw failures[0]
  }
}

/** Reads profiles as the workers keep them. */
async function readProfiles(
  redis: Redis,
  keys: Keys,
  profiles: readonly string[],
): Promise<Map<string, StoredProfile>> {
  const pipeline = redis.pipeline()
  for (const key of profiles) {
    pipeline.hgetall(keys.profile(key))
    pipeline.hgetall(keys.profileInterests(key))
    pipeline.zrange(keys.profileBought(key), 0, -1, 'WITHSCORES')
  }
  const replies = (await pipeline.exec()) ?? []
  const out = new Map<string, StoredProfile>()
  profiles.forEach((key, i) => {
    const [hash, interests, bought] = [0, 1, 2].map((j) => {
      const [error, reply] = replies[3 * i + j] ?? [new Error('no reply'), null]
      if (error) {
        throw error
      }
      return reply
    })
    const flat = bought as string[]
    const items: Record<string, number> = {}
    for (let k = 0; k < flat.length; k += 2) {
      items[String(flat[k])] = Number(flat[k + 1])
    }
    out.set(key, {
      hash: hash as Record<string, string>,
      interests: interests as Record<string, string>,
      bought: items,
    })
  })
  return out
}

/** Every main profile hash under the prefix, as profile keys. */
async function storedProfileKeys(redis: Redis, keys: Keys): Promise<string[]> {
  const head = keys.profile('')
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${head.slice(0, -1)}*}`, 'COUNT', 1000)
    cursor = next
    found.push(...batch.map((key) => key.slice(head.length - 1, -1)))
  } while (cursor !== '0')
  return found
}

/** What is left to do: unread or unacked log entries, jobs not finished. Empty once settled. */
async function backlog(redis: Redis, keys: Keys, queue: Queue): Promise<string[]> {
  const left: string[] = []
  for (let p = 0; p < PARTITIONS; p++) {
    const stream = keys.events(p)
    const info = (await redis.xinfo('STREAM', stream)) as unknown[]
    const last = String(info[info.indexOf('last-generated-id') + 1])
    const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][]
    const group = groups.find((g) => g[g.indexOf('name') + 1] === GROUPS.pipeline)
    if (!group) {
      left.push(`${stream}: no ${GROUPS.pipeline} group`)
      continue
    }
    const pending = Number(group[group.indexOf('pending') + 1])
    const delivered = String(group[group.indexOf('last-delivered-id') + 1])
    if (pending > 0 || delivered !== last) {
      left.push(`${stream}: ${pending} pending, delivered up to ${delivered} of ${last}`)
    }
  }
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'paused')
  for (const [state, count] of Object.entries(counts)) {
    if (count > 0) {
      left.push(`queue ${QUEUES.events}: ${count} ${state}`)
    }
  }
  return left
}

/**
 * Where events can end up for good without reaching a profile: the queue's failed set and the
 * log's dead-letter streams. Anything here is lost until an operator acts.
 */
async function losses(redis: Redis, keys: Keys, queue: Queue): Promise<string[]> {
  const out: string[] = []
  for (const job of await queue.getFailed(0, 20)) {
    out.push(
      `failed job ${job.id} (${job.data?.events?.length ?? '?'} events): ${job.failedReason}`,
    )
  }
  for (let p = 0; p < PARTITIONS; p++) {
    const dead = keys.deadLetter(keys.events(p))
    const length = await redis.xlen(dead)
    if (length > 0) {
      out.push(`${dead}: ${length} dead-lettered entries`)
    }
  }
  return out
}

describe('crash: workers processes SIGKILLed under load', () => {
  it('ends with every profile equal to the oracle: nothing lost, nothing counted twice', {
    timeout: 85_000,
  }, async () => {
    const t0 = Date.now()
    say('starting')
    const t = await testApi({
      NUDGE_RATE_IP: '1000000',
      NUDGE_RATE_IP_BURST: '1000000',
      NUDGE_RATE_SITE: '1000000',
      NUDGE_RATE_SITE_BURST: '1000000',
      NUDGE_PARTITIONS: String(PARTITIONS),
    })
    const { url } = await serveApp(t.app)
    const keys = createKeys(t.prefix)
    const siteId = t.site.site.id
    const schema = uniqueSchema()
    onTestFinished(() => dropSchema(schema))
    const queueConnection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null })
    const queue = new Queue(QUEUES.events, {
      connection: queueConnection,
      prefix: bullPrefix(t.config),
    })
    onTestFinished(async () => {
      await queue.close()
      queueConnection.disconnect()
    })

    const traffic = buildTraffic(readOttoSessions(), { seed: SEED, sessionCap: SESSION_CAP })
    const sent: SentEvent[] = traffic.requests.flatMap((request) =>
      Array.from({ length: request.twin ? 2 : 1 }, () =>
        request.events.map((event) => ({
          siteId,
          verified: request.trusted && event.userId !== undefined,
          event,
        })),
      ).flat(),
    )
    const at = Math.max(...sent.map((s) => s.event.ts))
    const expected = expectedProfiles(sent, { at })
    const uniqueIds = new Set(sent.map((s) => s.event.id)).size
    say(
      `${sent.length} events sent (${uniqueIds} unique) in ${traffic.requests.length} requests by ${traffic.shoppers} shoppers into ${expected.size} profiles`,
    )

    const fleet = createFleet(
      {
        ...process.env,
        REDIS_URL: TEST_REDIS_URL,
        DATABASE_URL: TEST_DATABASE_URL,
        DATABASE_SCHEMA: schema,
        NUDGE_KEY_PREFIX: t.prefix,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        NUDGE_CLAIM_IDLE: '1s',
        NUDGE_JOB_STALLED: '2s',
        NUDGE_PARTITIONS: String(PARTITIONS),
      },
      t.redis,
      keys,
    )
    const slots: Slot[] = [
      { name: 'workers-a', ready: false },
      { name: 'workers-b', ready: false },
    ]
    await Promise.all(slots.map((slot) => fleet.start(slot)))
    const tBooted = Date.now()
    say(`two workers processes up in ${tBooted - t0} ms`)

    const chaosRng = createRng(SEED ^ 0x5eed)
    const kills: string[] = []
    const restarts: Promise<void>[] = []
    /** Kill i of `count` at a random moment of the i-th slice of the window starting now. */
    const killDuring = async (count: number, windowMs: number) => {
      const start = Date.now()
      for (let i = 0; i < count; i++) {
        await sleep(start + ((i + chaosRng()) * windowMs) / count - Date.now())
        const pick = chaosRng()
        await waitFor(
          'a running workers process to kill',
          BOOT_MS,
          async () => fleet.isClosed() || slots.some((s) => s.ready),
        )
        const ready = slots.filter((s) => s.ready)
        const slot = ready[Math.floor(pick * ready.length)]
        if (!slot || fleet.isClosed()) {
          return
        }
        const pid = await fleet.kill(slot)
        const pause = between(chaosRng, 100, 1_000)
        kills.push(`${Date.now() - tBooted} ms: ${slot.name} pid ${pid}, back after ${pause} ms`)
        const restart = sleep(pause).then(() => fleet.start(slot))
        // Awaited below; until then a failure must not count as unhandled.
        restart.catch(() => undefined)
        restarts.push(restart)
      }
    }

    const stats: SendStats = { requests: 0, accepted: 0, duplicates: 0, retried: 0 }
    const auth = { writeKey: t.site.writeKey, secret: t.site.secret }
    const phase1 = traffic.requests.filter((r) => r.phase === 1)
    const phase2 = traffic.requests.filter((r) => r.phase === 2)
    await Promise.all([
      sendAll(url, auth, phase1, PHASE1_MS, stats),
      killDuring(KILLS.phase1, PHASE1_MS),
    ])
    await Promise.all(restarts)
    const tPhase1 = Date.now()
    // A login merges the anonymous profile as it is then: let every merge source be complete.
    const sources = traffic.mergedAnonymousIds.map((anonymousId) =>
      profileKey(siteId, { anonymousId, verified: false }),
    )
    const readN = async () => {
      const pipeline = t.redis.pipeline()
      for (const key of sources) {
        pipeline.hget(keys.profile(key), 'n')
      }
      return ((await pipeline.exec()) ?? []).map(([, n]) => Number(n ?? 0))
    }
    const sourceN = sources.map((key) => expected.get(key)?.n ?? 0)
    const report = async (lost: string[]) =>
      [
        `seed ${SEED} (replay with NUDGE_CRASH_SEED=${SEED})`,
        ...lost,
        `backlog: ${(await backlog(t.redis, keys, queue)).join('; ') || 'none'}`,
        `kills: ${kills.join('; ')}`,
        ...fleet.logs.slice(-40),
      ].join('\n')
    /** Lost events never arrive: say so at once rather than wait for the timeout. */
    const noLosses = async () => {
      const lost = await losses(t.redis, keys, queue)
      if (lost.length > 0) {
        throw new Error(`events lost (nothing acknowledged may be lost):\n${await report(lost)}`)
      }
    }
    await waitFor(
      'the anonymous profiles that logins merge',
      SETTLE_MS,
      async () => {
        await noLosses()
        return (await readN()).every((n, i) => n === sourceN[i])
      },
      async () => {
        const ns = await readN()
        const short = sources
          .map((key, i) => `${key} n=${ns[i]} of ${sourceN[i]}`)
          .filter((_, i) => ns[i] !== sourceN[i])
        return report([`incomplete: ${short.join(', ')}`])
      },
    )
    const tMerged = Date.now()
    await Promise.all([
      sendAll(url, auth, phase2, PHASE2_MS, stats),
      killDuring(KILLS.phase2, PHASE2_MS),
    ])
    const tSent = Date.now()
    await Promise.all(restarts)
    say(
      `phase 1 sent and its kills restarted in ${tPhase1 - tBooted} ms, merge sources complete ${tMerged - tPhase1} ms later, phase 2 sent in ${tSent - tMerged} ms, restarted after ${Date.now() - tSent} ms; ${kills.length} kills:\n  ${kills.join('\n  ')}`,
    )

    // Settled: nothing left in the log or queue, and the profile totals stop changing.
    const profiles = [...expected.keys()]
    const total = async () =>
      [...(await readProfiles(t.redis, keys, profiles)).values()].reduce(
        (sum, p) => sum + Number(p.hash.n ?? 0),
        0,
      )
    let lastTotal = -1
    let left: string[] = []
    await waitFor(
      'the pipeline to settle',
      SETTLE_MS,
      async () => {
        await noLosses()
        left = await backlog(t.redis, keys, queue)
        const now = await total()
        const stable = left.length === 0 && now === lastTotal
        lastTotal = now
        return stable
      },
      () => report([`left: ${left.join('; ')}`]),
    )
    const tSettled = Date.now()

    const lost = await losses(t.redis, keys, queue)
    const stored = await readProfiles(t.redis, keys, profiles)
    const mismatches: string[] = []
    for (const [key, want] of expected) {
      const got = stored.get(key) ?? { hash: {}, interests: {}, bought: {} }
      mismatches.push(...diffProfile(want, got, { at }))
    }
    for (const key of await storedProfileKeys(t.redis, keys)) {
      if (!expected.has(key)) {
        mismatches.push(`${key}: a profile nobody sent events for`)
      }
    }
    const context = await report([...lost, `${mismatches.length} mismatches`])
    // Evidence that the kills hit work in flight: jobs that had to run again.
    const done = await queue.getCompleted(0, -1)
    const stalled = done.filter((job) => job.stalledCounter > 0).length
    const rerun = done.filter((job) => job.attemptsStarted > 1).length
    say(
      `settled ${tSettled - tSent} ms after the last send; total ${tSettled - t0} ms (boot ${tBooted - t0}, load ${tSent - tBooted}, settle ${tSettled - tSent}); ${stats.requests} requests, ${stats.accepted} accepted, ${stats.duplicates} duplicates, ${stats.retried} retried; ${done.length} jobs, ${stalled} stalled, ${rerun} started more than once`,
    )

    expect(lost, context).toEqual([])
    expect(mismatches.slice(0, 40), context).toEqual([])
    if (stats.retried === 0) {
      // Every id was stored exactly once by ingest, whatever the retries.
      expect(stats.accepted, context).toBe(uniqueIds)
      expect(stats.accepted + stats.duplicates, context).toBe(sent.length)
    }
    expect(expected.size).toBeGreaterThan(60)
    expect(kills).toHaveLength(KILLS.phase1 + KILLS.phase2)
  })

  it('still merges on login when the worker died between applying the login and merging', async () => {
    const { redis, prefix } = await testRedis()
    const keys = createKeys(prefix)
    const store: ProfileStore = {
      redis,
      keys,
      weights: DEFAULT_WEIGHTS,
      retentionMs: 7 * 24 * 3_600_000,
      ...PROFILE_LIMITS,
    }
    const now = Date.now()
    const site = 'sit_crash'
    const view: ClientEvent = {
      id: 'view-1',
      type: 'ProductViewed',
      v: 1,
      anonymousId: 'anon-1',
      ts: now - 2_000,
      props: { productId: 'p1', category: 'Shoes' },
    }
    const login: ClientEvent = {
      id: 'login-1',
      type: 'UserLoggedIn',
      v: 1,
      userId: 'user-1',
      anonymousId: 'anon-1',
      ts: now - 1_000,
      props: {},
    }
    const stored = (event: ClientEvent, verified: boolean): StoredEvent => ({
      ...event,
      siteId: site,
      verified,
      receivedAt: now,
    })
    await applyProfiles(store, [stored(view, false)], now)
    // The worker stops between the two steps, as a SIGKILL there (or a Redis timeout on the
    // merge's first read) would stop it: the login is applied, the merge never starts.
    await applyProfiles(store, [stored(login, true)], now)
    // BullMQ hands the stalled job to another worker, which runs it again from the start.
    const job = { partition: 0, entryId: '1-0', events: [stored(login, true)] }
    await createEventsProcessor(store)(job)

    const at = now
    const expected = expectedProfiles(
      [
        { siteId: site, verified: false, event: view },
        { siteId: site, verified: true, event: login },
      ],
      { at },
    )
    const user = expected.get(profileKey(site, { userId: 'user-1', verified: true }))
    if (!user) {
      throw new Error('the oracle has no profile for user-1')
    }
    expect(user.n).toBe(2)
    const got = (await readProfiles(redis, keys, [user.key])).get(user.key)
    expect(diffProfile(user, got ?? { hash: {}, interests: {}, bought: {} }, { at })).toEqual([])
  })
})
