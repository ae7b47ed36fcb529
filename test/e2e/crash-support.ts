/**
 * @module The crash test's machinery: the fleet of workers processes it kills and restarts,
 * the sender of its traffic, and the readers that tell when the pipeline has settled and
 * what every profile holds, with the constants of its plan (seed, kills, time budgets).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import { expect, onTestFinished } from 'vitest'
import { GROUPS, type Keys, QUEUES } from '../../streams/keys'
import type { Request } from '../fixtures/otto-traffic'
import { basic } from '../harness'
import type { StoredProfile } from '../oracle'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const GUARD = new URL('../fixtures/exit-with-parent.ts', import.meta.url).href
export const SEED = Number(process.env.NUDGE_CRASH_SEED ?? 20_261_127)
export const PARTITIONS = 4
/**
 * Kills per phase, at random moments of its sending window, each of a random running process:
 * phase 1 is the bulk of the traffic, phase 2 the logins (merges) and what follows them.
 */
export const KILLS = { phase1: 2, phase2: 2 } as const
/** Long sessions are cut, for a few thousand events in all: enough load, a bounded run. */
export const SESSION_CAP = 150
export const PHASE1_MS = 10_000
export const PHASE2_MS = 3_000
export const IN_FLIGHT = 4
/** Bounds on every wait, well inside the test's own timeout. */
export const BOOT_MS = 30_000
export const SETTLE_MS = 30_000

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

export function say(line: string): void {
  console.log(`[crash seed=${SEED}] ${line}`)
}

/** Polls until `check` resolves true; throws with `detail()` after `timeoutMs`. */
export async function waitFor(
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

export type Slot = { name: string; child?: ChildProcess; ready: boolean }

/** Resolves as `promise` does, or rejects with `message` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
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
export function createFleet(env: NodeJS.ProcessEnv, redis: Redis, keys: Keys) {
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

export type SendStats = { requests: number; accepted: number; duplicates: number; retried: number }

/** Sends requests at an even pace over `spanMs`, at most IN_FLIGHT at once, retrying 429/503. */
export async function sendAll(
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
export async function readProfiles(
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
export async function storedProfileKeys(redis: Redis, keys: Keys): Promise<string[]> {
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
export async function backlog(redis: Redis, keys: Keys, queue: Queue): Promise<string[]> {
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
export async function losses(redis: Redis, keys: Keys, queue: Queue): Promise<string[]> {
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
