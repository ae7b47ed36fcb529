/**
 * @module `nudge jobs …`: list the jobs that failed for good, and retry them, on the events
 * queue (the processors) or the delayed-offers queue (delayed rule triggers).
 * Exit codes: 0 done, 1 the named job does not exist or is not failed, 2 the command line is wrong.
 */
import { parseArgs } from 'node:util'
import type { Queue } from 'bullmq'
import { QUEUES } from '../streams/keys'

/** The queues an operator may look into, by the name `--queue` takes. */
export const JOB_QUEUES = [QUEUES.events, QUEUES.delayedOffers] as const
export type JobQueue = (typeof JOB_QUEUES)[number]

export const JOBS_USAGE = `Usage: nudge jobs <command> [--queue events|delayed-offers] [--json]

Commands:
  failed [--limit N]        list failed jobs, newest first (default 20)
  retry <jobId>             put one failed job back on the queue
  retry --all               put every failed job back on the queue
  counts                    jobs per state

--queue                     events (default): slices of the event log for the processors;
                            delayed-offers: offer rules' delayed triggers`

export type JobsDeps = { open: (queue: JobQueue) => Queue; out: (line: string) => void }

/**
 * @example process.exitCode = await runJobsCommand(['failed'], { queue, out: console.log })
 */
export async function runJobsCommand(args: string[], deps: JobsDeps): Promise<number> {
  const { out } = deps
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(args)
  } catch (err) {
    out(`${(err as Error).message}\n\n${JOBS_USAGE}`)
    return 2
  }
  const { command, values, positionals } = parsed
  if (command === 'help') {
    out(JOBS_USAGE)
    return 0
  }
  const queue = deps.open(values.queue as JobQueue)
  const print = (text: string, data: unknown) => out(values.json ? JSON.stringify(data) : text)

  if (command === 'counts') {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed')
    print(
      Object.entries(counts)
        .map(([state, n]) => `${state}: ${n}`)
        .join('\n'),
      counts,
    )
    return 0
  }
  if (command === 'failed') {
    const limit = Number(values.limit ?? 20)
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      out(`--limit must be a whole number from 1 to 1000; got "${values.limit}"`)
      return 2
    }
    const jobs = await queue.getFailed(0, limit - 1)
    const rows = jobs.map((job) => ({
      id: job.id,
      failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : undefined,
      attempts: job.attemptsMade,
      reason: job.failedReason,
      // Events jobs carry a slice of the log; a delayed trigger is one rule for one shopper.
      events: Array.isArray((job.data as { events?: unknown[] }).events)
        ? (job.data as { events: unknown[] }).events.length
        : undefined,
    }))
    print(
      rows.length === 0
        ? 'No failed jobs.'
        : rows
            .map(
              (r) =>
                `${r.id}  ${r.failedAt}  attempts=${r.attempts}${r.events === undefined ? '' : `  events=${r.events}`}  ${r.reason}`,
            )
            .join('\n'),
      rows,
    )
    return 0
  }
  if (command === 'retry') {
    if (values.all) {
      await queue.retryJobs({ state: 'failed' })
      print('Every failed job is back on the queue.', { retried: 'all' })
      return 0
    }
    const [id] = positionals
    if (!id) {
      out(`retry needs a job id or --all\n\n${JOBS_USAGE}`)
      return 2
    }
    const job = await queue.getJob(id)
    if (!job || !(await job.isFailed())) {
      out(`No failed job ${id}. See: nudge jobs failed`)
      return 1
    }
    await job.retry('failed')
    print(`Job ${id} is back on the queue.`, { retried: id })
    return 0
  }
  out(`${JOBS_USAGE}`)
  return 2
}

function parse(args: string[]) {
  const [command = 'help', ...rest] = args
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      all: { type: 'boolean' },
      limit: { type: 'string' },
      queue: { type: 'string', default: QUEUES.events },
    },
  })
  if (!['failed', 'retry', 'counts', 'help'].includes(command)) {
    throw new Error(`Unknown command "${command}".`)
  }
  if (!(JOB_QUEUES as readonly string[]).includes(values.queue)) {
    throw new Error(`--queue must be one of ${JOB_QUEUES.join(', ')}; got "${values.queue}".`)
  }
  return { command, values, positionals }
}
