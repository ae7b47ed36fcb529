/**
 * @module What the pipeline bench reads off Redis while traffic flows, the same way for the real
 * pipeline and the naive one: how much is waiting (stream entries not yet acknowledged by the
 * `pipeline` group, jobs waiting or running in BullMQ), and which jobs completed when and how
 * long after their events were received.
 *
 * Latency comes from BullMQ's own bookkeeping, so the workers process under test carries no
 * bench code: a completed job sits in `<queue>:completed` scored by `finishedOn` (the worker's
 * clock when the processor resolved, i.e. after the profiles were written), and its `data`
 * holds its events with their `receivedAt` (the producer's clock when it appended them; same
 * machine, same clock).
 */
import type { Redis } from 'ioredis'

/** Where a pipeline's backlog lives. */
export type BacklogTarget = {
  /** The log partitions the pump reads; empty for the naive design (no log). */
  streams: readonly string[]
  group: string
  /** `<bull prefix>:<queue name>`, the stem of every BullMQ key of the queue. */
  queue: string
  /**
   * Events per stream entry (the producer sends requests of one size), and so per job entry:
   * a job holds one entry, or several (the pump's batches; their ids end in `-n<count>`).
   */
  eventsPerEntry: number
}

export type Backlog = {
  /** Entries appended but not yet acknowledged by the group (undelivered + pending). */
  streamEntries: number
  /** Jobs waiting, prioritised or running. */
  queueJobs: number
  /** Both, in events: what has been appended but has not reached the profiles yet. */
  events: number
}

/** Entries a group has not acknowledged: its lag (not yet delivered) plus its pending entries. */
function unacknowledged(reply: unknown, group: string, length: number): number {
  if (!Array.isArray(reply)) {
    return length
  }
  for (const raw of reply) {
    if (!Array.isArray(raw)) {
      continue
    }
    const info = new Map<string, unknown>()
    for (let i = 0; i + 1 < raw.length; i += 2) {
      info.set(String(raw[i]), raw[i + 1])
    }
    if (info.get('name') !== group) {
      continue
    }
    const pending = Number(info.get('pending') ?? 0)
    const lag = info.get('lag')
    // Redis leaves lag null when it cannot tell (after deletions); then count from the length.
    const notDelivered =
      lag === null || lag === undefined
        ? Math.max(0, length - Number(info.get('entries-read') ?? 0))
        : Number(lag)
    return notDelivered + pending
  }
  // No group yet: nothing of the stream has been read.
  return length
}

/**
 * @example const { events } = await readBacklog(redis, target)
 */
export async function readBacklog(redis: Redis, target: BacklogTarget): Promise<Backlog> {
  const read = redis.pipeline()
  for (const stream of target.streams) {
    read.xlen(stream)
    read.call('XINFO', 'GROUPS', stream)
  }
  // Ids, not lengths: a job's id says how many entries it holds. At most the backlog's bound
  // of jobs, read every 50 ms by the producer.
  read.lrange(`${target.queue}:wait`, 0, -1)
  read.lrange(`${target.queue}:active`, 0, -1)
  read.zrange(`${target.queue}:prioritized`, 0, -1)
  const replies = (await read.exec()) ?? []
  let streamEntries = 0
  let i = 0
  for (const _ of target.streams) {
    const [, length] = replies[i++] ?? [null, 0]
    // A stream the producer has not written to yet has no groups either: XINFO errors.
    const [groupsError, groups] = replies[i++] ?? [null, null]
    streamEntries += groupsError ? 0 : unacknowledged(groups, target.group, Number(length ?? 0))
  }
  let queueJobs = 0
  let queueEntries = 0
  for (; i < replies.length; i++) {
    const [error, ids] = replies[i] ?? [null, []]
    if (error) {
      throw error
    }
    for (const id of ids as string[]) {
      queueJobs++
      queueEntries += entriesOfJob(id)
    }
  }
  return {
    streamEntries,
    queueJobs,
    events: (streamEntries + queueEntries) * target.eventsPerEntry,
  }
}

/** Log entries an events job holds, from its id (streams/jobs.ts); 1 for any other job. */
export function entriesOfJob(id: string): number {
  const batch = /-n(\d+)$/.exec(id)
  return batch ? Number(batch[1]) : 1
}

/** Jobs completed in a span of `finishedOn`, the log entries they held, and a sample of latencies. */
export type Completions = { jobs: number; entries: number; latenciesMs: number[] }

const RECEIVED_AT = /"receivedAt":(\d+)/

/**
 * Jobs whose `finishedOn` lies in (from, to], with `finishedOn − receivedAt` for up to
 * `sampleMax` of them, spread evenly. Every event of a bench request shares one receivedAt, and
 * the first receivedAt in a job's data is its oldest entry's, so a job's latency is that of its
 * slowest events (a job of several entries counts once, with its oldest entry's latency).
 * @example const { jobs, latenciesMs } = await readCompletions(redis, 'bench:x:bull:events', t0, t1, 200)
 */
export async function readCompletions(
  redis: Redis,
  queue: string,
  from: number,
  to: number,
  sampleMax: number,
): Promise<Completions> {
  const flat = await redis.zrangebyscore(`${queue}:completed`, `(${from}`, to, 'WITHSCORES')
  const jobs = flat.length / 2
  let entries = 0
  for (let j = 0; j < flat.length; j += 2) {
    entries += entriesOfJob(flat[j] ?? '')
  }
  if (jobs === 0 || sampleMax <= 0) {
    return { jobs, entries, latenciesMs: [] }
  }
  const step = Math.max(1, jobs / sampleMax)
  const picked: { id: string; finishedOn: number }[] = []
  for (let k = 0; k < jobs; k += step) {
    const j = Math.floor(k)
    picked.push({ id: flat[2 * j] ?? '', finishedOn: Number(flat[2 * j + 1]) })
  }
  const read = redis.pipeline()
  for (const { id } of picked) {
    read.hget(`${queue}:${id}`, 'data')
  }
  const replies = (await read.exec()) ?? []
  const latenciesMs: number[] = []
  picked.forEach(({ finishedOn }, k) => {
    const [error, data] = replies[k] ?? [null, null]
    // A job removed meanwhile (retention by count) simply drops out of the sample.
    const match = !error && typeof data === 'string' ? RECEIVED_AT.exec(data) : null
    if (match) {
      latenciesMs.push(finishedOn - Number(match[1]))
    }
  })
  return { jobs, entries, latenciesMs }
}

/** Jobs that failed for good or wait for a retry: anything but 0 means events went missing. */
export async function readFailures(
  redis: Redis,
  queue: string,
): Promise<{ failed: number; retrying: number }> {
  const [failed, delayed] = await Promise.all([
    redis.zcard(`${queue}:failed`),
    redis.zcard(`${queue}:delayed`),
  ])
  return { failed, retrying: delayed }
}
