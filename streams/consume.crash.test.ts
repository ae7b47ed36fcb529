import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it, onTestFinished } from 'vitest'
import { createBlockingRedis, createRedis, waitReady } from '../runtime/redis'
import { TEST_REDIS_URL, testRedis } from '../test/redis'
import { createConsumer } from './consume'
import type { StoredEvent } from './events'
import { createKeys } from './keys'
import { appendEvents, type EventLog, prepareEvent } from './produce'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const GROUP = 'pipeline'

function event(id: string): StoredEvent {
  const now = Date.now()
  return {
    id,
    type: 'ProductViewed',
    v: 1,
    anonymousId: `anon-${id}`,
    ts: now - 1000,
    receivedAt: now,
    siteId: 'sit_test',
    verified: false,
    props: { productId: `p-${id}` },
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, detail = () => '') {
  const deadline = Date.now() + 10_000
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}\n${detail()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

// The contract under test is at-least-once: an entry whose handler ran but whose ack never
// happened is handled again by another consumer, so its events count twice here. Exactly-once
// effects are the handlers' job (idempotent per event id), not the consumer's.
it('hands a killed consumer’s unacked batch to a live one: all handled, re-delivered, none pending', {
  timeout: 15_000,
}, async () => {
  const { redis, prefix } = await testRedis()
  const log: EventLog = {
    keys: createKeys(prefix),
    partitions: 1,
    retentionMs: 3_600_000,
    dedupWindowMs: 60_000,
  }
  const stream = log.keys.events(0)
  const sent = new Map<string, string[]>()
  for (let i = 0; i < 8; i++) {
    const ids = [`e${i}a`, `e${i}b`, `e${i}c`]
    const prepared = ids.map((id) => prepareEvent(event(id), log.partitions))
    expect((await appendEvents(redis, log, prepared, Date.now())).accepted).toBe(3)
    const [last] = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as [[string, string[]]]
    sent.set(last[0], ids)
  }

  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/consumer-child.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...{ TEST_REDIS_URL, PREFIX: prefix, STREAM: stream, GROUP, CONSUMER: 'child' },
      ...{ BATCH_SIZE: '2', HANG_ON_CALL: '2' },
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)))
  onTestFinished(() => {
    child.kill('SIGKILL')
  })
  await waitFor(
    'the child inside its second handler call',
    async () => (await redis.llen(`${prefix}calls`)) >= 2,
    () => stderr,
  )
  const childCalls = (await redis.lrange(`${prefix}calls`, 0, -1)).map(
    (call) => JSON.parse(call) as string[],
  )
  const [acked, hung] = childCalls as [string[], string[]]
  expect(childCalls.length).toBe(2)
  expect(hung.length).toBe(2)
  // Handled (its effects are in Redis) but not acknowledged: the batch in flight.
  const pending = (await redis.xpending(stream, GROUP, '-', '+', 100)) as unknown[][]
  expect(pending.map((row) => [row[0], row[1]])).toEqual(hung.map((id) => [id, 'child']))
  child.kill('SIGKILL')
  expect(await exited).toBe('SIGKILL')

  const rescuerCalls: string[][] = []
  const client = createRedis(TEST_REDIS_URL, { commandTimeoutMs: 2000 })
  const blocking = createBlockingRedis(TEST_REDIS_URL)
  await waitReady(client, 2000)
  const rescuer = createConsumer({
    redis: client,
    blocking,
    stream,
    group: GROUP,
    consumer: 'rescuer',
    blockMs: 100,
    claimIdleMs: 300,
    handler: async (entries) => {
      const effects = client.multi()
      for (const event of entries.flatMap((e) => e.events)) {
        effects.hincrby(`${prefix}handled`, event.id, 1)
      }
      await effects.exec()
      rescuerCalls.push(entries.map((e) => e.streamId))
    },
  })
  const running = rescuer.run()
  onTestFinished(async () => {
    await rescuer.stop()
    client.disconnect()
    blocking.disconnect()
  })
  const expected = new Map<string, number>()
  for (const [entryId, ids] of sent) {
    for (const id of ids) {
      expected.set(id, hung.includes(entryId) ? 2 : 1)
    }
  }
  const handled = async () => new Map(Object.entries(await redis.hgetall(`${prefix}handled`)))
  const summary = async () => (await redis.xpending(stream, GROUP)) as [number, ...unknown[]]
  await waitFor(
    'every event handled and nothing pending',
    async () => (await handled()).size === expected.size && (await summary())[0] === 0,
    () => JSON.stringify({ rescuerCalls, stderr }),
  )
  await rescuer.stop()
  await running

  expect(acked.length).toBe(2)
  expect(new Map([...(await handled())].map(([id, n]) => [id, Number(n)]))).toEqual(expected)
  const unacked = [...sent.keys()].filter((id) => !acked.includes(id))
  expect(rescuerCalls.flat().sort()).toEqual(unacked.sort())
  expect(await summary()).toEqual([0, null, null, null])
  expect(await redis.xlen(createKeys('').deadLetter(stream))).toBe(0)
})
