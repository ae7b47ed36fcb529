/**
 * `nudge replay` against the real api, pump and workers: events processed live, then replayed
 * into fresh prefixes, must give the same profiles — counts exactly, scores within rounding.
 */
import type { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import type { Config } from '../runtime/config'
import type { Keys } from '../streams/keys'
import { basic, type TestApi, testApi, testWorkers } from '../test/harness'
import { DEFAULT_WEIGHTS } from '../workers/domain/profile-delta'
import { createEventsProcessor } from '../workers/processors/events'
import { PROFILE_LIMITS } from '../workers/processors/profile'
import { createRecommendationsStep } from '../workers/processors/recommendations'
import { checkpointKey, type ReplayDeps, runReplayCommand } from './replay'

const DAY = 24 * 3_600_000
const CATEGORIES = ['Shoes', 'Bags', 'Hats', 'Socks']

/** The workers' events processor with every live step, on other keys (as bin/nudge.ts wires it). */
function processorFor(config: Config) {
  return (redis: Redis, keys: Keys) =>
    createEventsProcessor(
      {
        redis,
        keys,
        weights: DEFAULT_WEIGHTS,
        retentionMs: config.NUDGE_RETENTION,
        ...PROFILE_LIMITS,
      },
      [createRecommendationsStep({ redis, keys })],
    )
}

function deps(t: TestApi, lines: string[], extra: Partial<ReplayDeps> = {}): ReplayDeps {
  return {
    connect: async () => t.redis,
    config: t.config,
    processorFor: processorFor(t.config),
    out: (line) => lines.push(line),
    progress: { write: () => true },
    ...extra,
  }
}

/** A small deterministic generator, so every run sends the same history. */
function random(seed: number) {
  let state = seed
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
    return state / 2_147_483_648
  }
}

function shopperEvents(next: () => number, n: number, who: Record<string, string>, tag: string) {
  const base = Date.now() - 20 * DAY
  return Array.from({ length: n }, (_, i) => {
    const r = next()
    const item = `sku-${Math.floor(next() * 30)}`
    const category = CATEGORIES[Math.floor(next() * CATEGORIES.length)]
    const ts = Math.floor(base + next() * 19 * DAY)
    const id = `${tag}-${i}`
    const product = { productId: item, category, price: 10 + Math.floor(r * 90) }
    if (r < 0.5) {
      return { id, type: 'ProductViewed', v: 1, ...who, ts, props: product }
    }
    if (r < 0.65) {
      return { id, type: 'ClickedProduct', v: 1, ...who, ts, props: product }
    }
    if (r < 0.8) {
      return { id, type: 'AddedToCart', v: 1, ...who, ts, props: product }
    }
    if (r < 0.85) {
      return { id, type: 'RemovedFromCart', v: 1, ...who, ts, props: product }
    }
    if (r < 0.93) {
      return {
        id,
        type: 'OrderCompleted',
        v: 1,
        ...who,
        ts,
        props: { orderId: id, products: [product] },
      }
    }
    return {
      id,
      type: 'Custom',
      v: 1,
      ...who,
      ts,
      props: { name: 'Favorited', properties: { item } },
    }
  })
}

async function send(t: TestApi, key: string, events: unknown[]): Promise<void> {
  for (let i = 0; i < events.length; i += 7) {
    const res = await t.app.request('/v1/events', {
      method: 'POST',
      headers: { authorization: basic(key) },
      body: JSON.stringify({ events: events.slice(i, i + 7) }),
    })
    expect(res.status, await res.clone().text()).toBe(200)
  }
}

async function keysMatching(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    found.push(...keys)
    cursor = next
  } while (cursor !== '0')
  return found.sort()
}

/** Waits until the live workers have applied `expected` events in all. */
async function drained(t: TestApi, expected: number): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    let applied = 0
    for (const key of await keysMatching(t.redis, `${t.prefix}profile:{*}:applied`)) {
      applied += await t.redis.zcard(key)
    }
    if (applied >= expected || Date.now() > deadline) {
      expect(applied).toBe(expected)
      return
    }
    await new Promise((r) => setTimeout(r, 20))
  }
}

type Snapshot = Record<string, Record<string, string> | string[]>

/** Every key of every profile under a prefix, by name without the prefix. */
async function profiles(redis: Redis, prefix: string): Promise<Snapshot> {
  const out: Snapshot = {}
  for (const key of await keysMatching(redis, `${prefix}profile:{*}*`)) {
    const name = key.slice(prefix.length)
    const type = await redis.type(key)
    if (type === 'hash') {
      out[name] = await redis.hgetall(key)
    } else if (type === 'zset') {
      out[name] = await redis.zrange(key, 0, -1, 'WITHSCORES')
    } else {
      out[name] = (await redis.smembers(key)).sort()
    }
  }
  return out
}

/**
 * Same keys and values, except decayed sums (score, interests), which may differ in the last
 * bits: floating-point addition depends on the order events were applied in. Personal
 * recommendations (`:recs`) only have to exist: they blend in trending figures as of the moment
 * they were computed, and the live workers ran several jobs at once.
 */
function expectSameProfiles(replayed: Snapshot, live: Snapshot): void {
  expect(Object.keys(replayed)).toEqual(Object.keys(live))
  for (const [name, value] of Object.entries(live)) {
    const other = replayed[name]
    if (name.endsWith(':recs')) {
      expect((other ?? []).length, name).toBeGreaterThan(0)
      continue
    }
    if (Array.isArray(value) || Array.isArray(other) || other === undefined) {
      expect(other, name).toEqual(value)
      continue
    }
    expect(Object.keys(other).sort(), name).toEqual(Object.keys(value).sort())
    for (const [field, text] of Object.entries(value)) {
      const decayed = (field === 'score' || name.endsWith(':interests')) && !field.endsWith('@')
      if (decayed) {
        const [a, b] = [Number(other[field]), Number(text)]
        expect(Math.abs(a - b), `${name} ${field}: ${a} vs ${b}`).toBeLessThanOrEqual(
          1e-9 * Math.max(1, Math.abs(b)),
        )
      } else {
        expect(other[field], `${name} ${field}`).toBe(text)
      }
    }
  }
}

async function liveHistory(): Promise<{ t: TestApi; live: Snapshot; sent: number }> {
  const t = await testApi()
  const workers = await testWorkers(t)
  const next = random(7)
  let sent = 0
  const anon = Array.from({ length: 8 }, (_, s) =>
    shopperEvents(next, 12, { anonymousId: `anon-${s}` }, `a${s}`),
  ).flat()
  // Shuffled, so requests span partitions and entries hold several shoppers.
  for (let i = anon.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[anon[i], anon[j]] = [anon[j] as (typeof anon)[number], anon[i] as (typeof anon)[number]]
  }
  await send(t, t.site.writeKey, anon)
  sent += anon.length
  await drained(t, sent)
  const login = {
    id: 'login-1',
    type: 'UserLoggedIn',
    v: 1,
    userId: 'user-1',
    anonymousId: 'anon-1',
    ts: Date.now() - DAY,
    props: {},
  }
  const user = shopperEvents(next, 10, { userId: 'user-1' }, 'u1')
  await send(t, t.site.secret, [login, ...user])
  sent += 1 + user.length
  await drained(t, sent)
  const later = shopperEvents(next, 15, { anonymousId: 'anon-1' }, 'late')
  await send(t, t.site.writeKey, later)
  sent += later.length
  await drained(t, sent)
  await workers.close()
  return { t, live: await profiles(t.redis, t.prefix), sent }
}

describe('nudge replay', () => {
  it('rebuilds the live profiles, and an interrupted replay resumes to the same result', async () => {
    const { t, live, sent } = await liveHistory()
    expect(Object.keys(live).length).toBeGreaterThan(20)

    const lines: string[] = []
    const into = `${t.prefix}r1:`
    const code = await runReplayCommand(['--from', '0', '--into', into], deps(t, lines))
    expect(code, lines.join('\n')).toBe(0)
    expect(lines.at(-1)).toMatch(/Replayed \d+ entries \(\d+ events this run\)/)
    expectSameProfiles(await profiles(t.redis, into), live)

    // Stopped after two chunks of five entries, then resumed.
    const into2 = `${t.prefix}r2:`
    const abort = new AbortController()
    const stopped = await runReplayCommand(
      ['--from', '0', '--into', into2],
      deps(t, lines, {
        chunkSize: 5,
        signal: abort.signal,
        onChunk: (n) => n === 2 && abort.abort(),
      }),
    )
    expect(stopped).toBe(130)
    expect(await t.redis.hget(checkpointKey(into2), 'applied')).toBe('10')
    expect(await runReplayCommand(['--from', '0', '--into', into2], deps(t, lines))).toBe(0)
    expectSameProfiles(await profiles(t.redis, into2), live)

    // Crashed in the middle of a chunk (before its checkpoint), then resumed.
    const into3 = `${t.prefix}r3:`
    let calls = 0
    const crashing = (redis: Redis, keys: Keys) => {
      const apply = processorFor(t.config)(redis, keys)
      return async (data: unknown) => {
        calls++
        if (calls === 13) {
          throw new Error('killed')
        }
        return apply(data)
      }
    }
    await expect(
      runReplayCommand(
        ['--from', '0', '--into', into3],
        deps(t, lines, { chunkSize: 5, processorFor: crashing }),
      ),
    ).rejects.toThrow('killed')
    expect(await t.redis.hget(checkpointKey(into3), 'applied')).toBe('10')
    expect(await runReplayCommand(['--from', '0', '--into', into3], deps(t, lines))).toBe(0)
    expectSameProfiles(await profiles(t.redis, into3), live)

    // Done means done; a finished replay run again changes nothing.
    expect(await runReplayCommand(['--from', '0', '--into', into], deps(t, lines))).toBe(0)
    expect(lines.at(-1)).toMatch(/already complete/)
    expect(sent).toBeGreaterThan(100)
  })

  it('replays only the entries between --from and --to', async () => {
    const t = await testApi()
    const send1 = Date.now()
    await send(t, t.site.writeKey, shopperEvents(random(1), 5, { anonymousId: 'x' }, 'first'))
    await new Promise((r) => setTimeout(r, 5))
    const middle = Date.now()
    await new Promise((r) => setTimeout(r, 5))
    await send(t, t.site.writeKey, shopperEvents(random(2), 5, { anonymousId: 'x' }, 'second'))
    const lines: string[] = []
    const into = `${t.prefix}part:`
    const code = await runReplayCommand(
      ['--from', new Date(send1 - 1000).toISOString(), '--to', String(middle), '--into', into],
      deps(t, lines),
    )
    expect(code, lines.join('\n')).toBe(0)
    const profile = await t.redis.hgetall(`${into}profile:{${t.site.site.id}:a:x}`)
    expect(profile.n).toBe('5')
  })

  it('refuses a target that is the live prefix, holds other keys, or holds another replay', async () => {
    const t = await testApi()
    const lines: string[] = []
    const run = (args: string[]) => runReplayCommand(args, deps(t, lines))
    expect(await run(['--from', '0', '--into', t.prefix])).toBe(2)
    expect(lines.at(-1)).toMatch(/must differ from the live key prefix/)
    expect(await run(['--from', '0', '--into', 't:'])).toBe(2)
    expect(lines.at(-1)).toMatch(/would hold the live keys/)
    expect(await run(['--from', 'yesterday', '--into', `${t.prefix}x:`])).toBe(2)
    expect(lines.at(-1)).toMatch(/--from "yesterday" is not an ISO time/)
    expect(await run(['--into', `${t.prefix}x:`])).toBe(2)
    expect(await run(['--from', '10', '--to', '5', '--into', `${t.prefix}x:`])).toBe(2)
    expect(lines.at(-1)).toMatch(/is before --from/)
    expect(await run(['--help'])).toBe(0)

    await t.redis.set(`${t.prefix}busy:something`, '1')
    expect(await run(['--from', '0', '--into', `${t.prefix}busy:`])).toBe(1)
    expect(lines.at(-1)).toMatch(/already holds keys \(such as .*busy:something\)/)

    expect(await run(['--from', '0', '--into', `${t.prefix}y:`])).toBe(0)
    expect(await run(['--from', '5', '--into', `${t.prefix}y:`])).toBe(1)
    expect(lines.at(-1)).toMatch(/holds a replay of .* --from 0-0; rerun with those options/)
  })
})
