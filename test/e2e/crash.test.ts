import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { ClientEvent, StoredEvent } from '../../streams/events'
import { createKeys, QUEUES } from '../../streams/keys'
import { profileKey } from '../../streams/partition'
import { DEFAULT_WEIGHTS } from '../../workers/domain/profile-delta'
import { bullPrefix } from '../../workers/main'
import { createEventsProcessor } from '../../workers/processors/events'
import { applyProfiles, PROFILE_LIMITS, type ProfileStore } from '../../workers/processors/profile'
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../db'
import { between, buildTraffic, createRng, readOttoSessions } from '../fixtures/otto-traffic'
import { testApi } from '../harness'
import { diffProfile, expectedProfiles, type SentEvent } from '../oracle'
import { TEST_REDIS_URL, testRedis } from '../redis'
import { serveApp } from '../serve'

import {
  BOOT_MS,
  backlog,
  createFleet,
  KILLS,
  losses,
  PARTITIONS,
  PHASE1_MS,
  PHASE2_MS,
  readProfiles,
  SEED,
  SESSION_CAP,
  SETTLE_MS,
  type SendStats,
  type Slot,
  say,
  sendAll,
  sleep,
  storedProfileKeys,
  waitFor,
} from './crash-support'

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
    /**
     * Kill i of `count` at a random moment of the i-th slice of the window starting now. With
     * `wholeFleetFirst`, the first kill takes every running process at once (a deploy gone
     * wrong): the log piles up meanwhile, so the pumps that come back read several entries at
     * a time and put them into jobs of several entries, whose hand-over is then tested too.
     */
    const killDuring = async (count: number, windowMs: number, wholeFleetFirst = false) => {
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
        const pause = between(chaosRng, 100, 1_000)
        for (const victim of i === 0 && wholeFleetFirst ? ready : [slot]) {
          const pid = await fleet.kill(victim)
          kills.push(
            `${Date.now() - tBooted} ms: ${victim.name} pid ${pid}, back after ${pause} ms`,
          )
          const restart = sleep(pause).then(() => fleet.start(victim))
          // Awaited below; until then a failure must not count as unhandled.
          restart.catch(() => undefined)
          restarts.push(restart)
        }
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
      killDuring(KILLS.phase2, PHASE2_MS, true),
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
    const batches = done.filter((job) => (job.data.entries?.length ?? 0) > 1).length
    // The pump added each logged event to exactly one job, however it was killed: a job of
    // several entries split after failing for good would hold its events twice, so those count
    // once through their split jobs.
    const jobsOf = new Map<string, number>()
    for (const job of done) {
      if (job.returnvalue?.split === undefined) {
        for (const event of job.data.events as StoredEvent[]) {
          jobsOf.set(event.id, (jobsOf.get(event.id) ?? 0) + 1)
        }
      }
    }
    const addedTwice = [...jobsOf].filter(([, n]) => n > 1).map(([id]) => id)
    say(
      `settled ${tSettled - tSent} ms after the last send; total ${tSettled - t0} ms (boot ${tBooted - t0}, load ${tSent - tBooted}, settle ${tSettled - tSent}); ${stats.requests} requests, ${stats.accepted} accepted, ${stats.duplicates} duplicates, ${stats.retried} retried; ${done.length} jobs (${batches} of several entries), ${stalled} stalled, ${rerun} started more than once`,
    )

    expect(lost, context).toEqual([])
    expect(mismatches.slice(0, 40), context).toEqual([])
    expect(addedTwice.slice(0, 20), context).toEqual([])
    if (stats.retried === 0) {
      expect(jobsOf.size, context).toBe(uniqueIds)
      // Every id was stored exactly once by ingest, whatever the retries.
      expect(stats.accepted, context).toBe(uniqueIds)
      expect(stats.accepted + stats.duplicates, context).toBe(sent.length)
    }
    expect(expected.size).toBeGreaterThan(60)
    // The whole fleet's kill in phase 2 takes both processes: one kill more than planned.
    expect(kills).toHaveLength(KILLS.phase1 + KILLS.phase2 + 1)
    expect(batches, context).toBeGreaterThan(0)
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
