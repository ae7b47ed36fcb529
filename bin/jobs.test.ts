import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { TEST_REDIS_URL, testRedis } from '../test/redis'
import { runJobsCommand } from './jobs'

describe('nudge jobs', () => {
  it('lists jobs that failed for good and retries them', async () => {
    const { prefix } = await testRedis()
    const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null })
    const queue = new Queue('events', { connection, prefix: `${prefix}bull` })
    let fail = true
    const done: string[] = []
    const worker = new Worker(
      'events',
      async (job) => {
        if (fail) {
          throw new Error('poison')
        }
        done.push(String(job.id))
      },
      {
        connection: new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null }),
        prefix: `${prefix}bull`,
      },
    )
    onTestFinished(async () => {
      await worker.close()
      await queue.close()
      connection.disconnect()
    })
    await queue.add('events', { events: [{}, {}] }, { jobId: 'p0-1-0', attempts: 1 })
    const lines: string[] = []
    const out = (line: string) => lines.push(line)
    const deadline = Date.now() + 5_000
    while ((await queue.getFailedCount()) === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(await runJobsCommand(['failed'], { open: () => queue, out })).toBe(0)
    expect(lines.at(-1)).toMatch(/^p0-1-0 .*attempts=1 {2}events=2 {2}poison$/)

    expect(await runJobsCommand(['retry', 'nope'], { open: () => queue, out })).toBe(1)
    expect(await runJobsCommand(['bogus'], { open: () => queue, out })).toBe(2)
    expect(await runJobsCommand(['failed', '--queue', 'nope'], { open: () => queue, out })).toBe(2)
    expect(lines.some((l) => l.startsWith('--queue must be one of events, delayed-offers'))).toBe(
      true,
    )

    fail = false
    expect(await runJobsCommand(['retry', 'p0-1-0'], { open: () => queue, out })).toBe(0)
    while (done.length === 0 && Date.now() < deadline + 5_000) {
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(done).toEqual(['p0-1-0'])
    expect(await queue.getFailedCount()).toBe(0)
  })

  it('opens the queue --queue names, events by default', async () => {
    const opened: string[] = []
    const { prefix } = await testRedis()
    const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null })
    const open = (name: string) => {
      opened.push(name)
      return new Queue(name, { connection, prefix: `${prefix}bull` })
    }
    onTestFinished(() => connection.disconnect())
    const lines: string[] = []
    expect(await runJobsCommand(['counts'], { open, out: (l) => lines.push(l) })).toBe(0)
    expect(
      await runJobsCommand(['failed', '--queue', 'delayed-offers'], {
        open,
        out: (l) => lines.push(l),
      }),
    ).toBe(0)
    expect(opened).toEqual(['events', 'delayed-offers'])
    expect(lines.at(-1)).toBe('No failed jobs.')
  })
})
