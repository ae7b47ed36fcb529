import { describe, expect, it, onTestFinished } from 'vitest'
import { createLogger } from '../runtime/logger'
import { createKeys } from '../streams/keys'
import { TEST_REDIS_URL, testRedis } from '../test/redis'
import { startMaintenance } from './maintenance'

describe('maintenance schedulers', () => {
  it('trims streams on schedule, once per tick across processes', async () => {
    const { redis, prefix } = await testRedis()
    const keys = createKeys(prefix)
    const old = Date.now() - 10 * 86_400_000
    for (let i = 0; i < 300; i++) {
      await redis.xadd(keys.events(0), `${old + i}-0`, 'e', '{}')
    }
    const runs: string[] = []
    const start = () =>
      startMaintenance({
        redis,
        redisUrl: TEST_REDIS_URL,
        keys,
        bullPrefix: `${prefix}bull`,
        partitions: 1,
        retentionMs: 7 * 86_400_000,
        logger: createLogger({ level: 'silent', role: 'workers' }),
        trimEveryMs: 300,
        extra: { probe: { every: 300, run: async () => runs.push('probe') } },
      })
    const a = await start()
    const b = await start()
    onTestFinished(async () => {
      await a.close()
      await b.close()
    })
    const deadline = Date.now() + 5_000
    while ((await redis.xlen(keys.events(0))) > 100 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(await redis.xlen(keys.events(0))).toBeLessThan(100)
    // Two processes, one scheduler: ticks are not doubled (about one run per 300 ms).
    const elapsed = Date.now() - (deadline - 5_000)
    expect(runs.length).toBeLessThanOrEqual(Math.ceil(elapsed / 300) + 1)
  })
})
