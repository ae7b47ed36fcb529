/**
 * @module `nudge jobs …`: list the events jobs that failed for good, and retry them.
 * Exit codes: 0 done, 1 the named job does not exist or is not failed, 2 the command line is wrong.
 */
import { parseArgs } from 'node:util'
import type { Queue } from 'bullmq'

export const JOBS_USAGE = `Usage: nudge jobs <command> [--json]

Commands:
  failed [--limit N]        list failed events jobs, newest first (default 20)
  retry <jobId>             put one failed job back on the queue
  retry --all               put every failed job back on the queue
  counts                    jobs per state`

export type JobsDeps = { queue: Queue; out: (line: string) => void }

/**
 * @example process.exitCode = await runJobsCommand(['failed'], { queue, out: console.log })
 */
export async function runJobsCommand(args: string[], deps: JobsDeps): Promise<number> {
  const { out, queue } = deps
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(args)
  } catch (err) {
    out(`${(err as Error).message}\n\n${JOBS_USAGE}`)
    return 2
  }
  const { command, values, positionals } = parsed
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
      events: Array.isArray((job.data as { events?: unknown[] }).events)
        ? (job.data as { events: unknown[] }).events.length
        : 0,
    }))
    print(
      rows.length === 0
        ? 'No failed jobs.'
        : rows
            .map(
              (r) =>
                `${r.id}  ${r.failedAt}  attempts=${r.attempts}  events=${r.events}  ${r.reason}`,
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
  return command === 'help' ? 0 : 2
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
    },
  })
  if (!['failed', 'retry', 'counts', 'help'].includes(command)) {
    throw new Error(`Unknown command "${command}".`)
  }
  return { command, values, positionals }
}
