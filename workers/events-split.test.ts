/** An events job of several log entries that fails for good holds back only its bad entry. */
import { Queue } from 'bullmq'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createBlockingRedis } from '../runtime/redis'
import type { StoredEvent } from '../streams/events'
import { type EventsJob, eventsBatchJobId, eventsJobId } from '../streams/jobs'
import { bullPrefix, createKeys, QUEUES } from '../streams/keys'
import { testApi, testWorkers } from '../test/harness'
import { TEST_REDIS_URL } from '../test/redis'
import { until } from '../test/until'

describe('events worker', () => {
  it('splits a job of several entries that fails for good into one job per entry', async () => {
    const t = await testApi()
    await testWorkers(t)
    const keys = createKeys(t.prefix)
    const connection = createBlockingRedis(TEST_REDIS_URL, 'test-split')
    const queue = new Queue<EventsJob>(QUEUES.events, {
      connection,
      prefix: bullPrefix(t.config.NUDGE_KEY_PREFIX),
    })
    onTestFinished(async () => {
      await queue.close()
      connection.disconnect()
    })
    const now = Date.now()
    const view = (id: string, anonymousId?: string): StoredEvent =>
      ({
        id,
        type: 'ProductViewed',
        v: 1,
        ...(anonymousId && { anonymousId }),
        ts: now,
        receivedAt: now,
        siteId: t.site.site.id,
        verified: false,
        props: { productId: 'p1' },
      }) as StoredEvent
    // The second entry's event has neither id: the worker refuses it for good.
    const good = [view('g1', 'good-1'), view('g2', 'good-1')]
    const bad = [view('b1')]
    const id = eventsBatchJobId(0, '1-0', 2)
    await queue.add(
      'events',
      {
        partition: 0,
        entryId: '1-0',
        events: [...good, ...bad],
        entries: [
          ['1-0', 2],
          ['2-0', 1],
        ],
      },
      { jobId: id, attempts: 5 },
    )

    const profile = await until(
      () => t.redis.hgetall(keys.profile(`${t.site.site.id}:a:good-1`)),
      (p) => p.n === '2',
    )
    expect(profile.n).toBe('2')
    const states = await until(
      async () =>
        Promise.all(
          [id, eventsJobId(0, '1-0'), eventsJobId(0, '2-0')].map((j) => queue.getJobState(j)),
        ),
      (s) => s.join() === 'completed,completed,failed',
    )
    expect(states).toEqual(['completed', 'completed', 'failed'])
    const failed = await queue.getJob(eventsJobId(0, '2-0'))
    expect(failed?.failedReason).toMatch(/anonymousId or a userId is required/)
  })
})
