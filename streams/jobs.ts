/**
 * @module BullMQ job contracts: what the pump puts on the `events` queue and the processors
 * take off it, plus the default job options that bound retention.
 *
 * One job = one or several consecutive entries of one partition of the event log (each entry is
 * one request's events of that partition), their events in log order. A single entry's job id
 * is `p<partition>-<entry id>`, several entries' `p<partition>-<first entry id>-n<count>`
 * (BullMQ ids may not contain ":"). BullMQ refuses a second job with an id it still holds, and
 * the pump records which job holds each entry of a job of several, so a pump that dies between
 * adding jobs and XACK adds nothing twice when the entries come back (workers/pump.ts).
 */
import { z } from 'zod'
import { looksStored, storedEvent } from './events'

export const eventsJob = z.object({
  partition: z.number().int().min(0),
  /** The (first) log entry the job holds. */
  entryId: z.string().regex(/^\d+-\d+$/),
  events: z.array(storedEvent).min(1),
  /**
   * A job of several entries: each entry's id and number of events, in the order of `events`
   * (so a job that fails can be split back into one job per entry).
   */
  entries: z.array(z.tuple([z.string(), z.number().int().min(1)])).optional(),
  /** Set by replay and import: rebuild state, never send offers. */
  replay: z.boolean().optional(),
})
export type EventsJob = z.infer<typeof eventsJob>

/**
 * An events job as the worker takes it off the queue: the job, or what is wrong and where.
 * Every event was parsed with `storedEvent` by the api before it was written to the log, and
 * the pump's consumer checks every entry the same quick way (`looksStored`, with a full parse
 * of what fails it) and replay parses every entry in full; both dead-letter what does not parse. Parsing all of them again
 * cost ~7% of the worker's CPU. So the quick check of what the processors rely on comes first;
 * only a job that fails it is parsed in full, which fills in defaults (a job queued by an older
 * version, before a field with a default was added) or says what is wrong.
 * @example const job = checkEventsJob(data); if (typeof job === 'string') throw new Error(job)
 */
export function checkEventsJob(data: unknown): EventsJob | string {
  const problem = shapeProblem(data)
  if (problem === undefined) {
    return data as EventsJob
  }
  const parsed = eventsJob.safeParse(data)
  if (parsed.success) {
    // The api refuses an event without either id; the contract alone does not.
    const anonymous = parsed.data.events.findIndex(
      (event) => event.anonymousId === undefined && event.userId === undefined,
    )
    return anonymous === -1
      ? parsed.data
      : `${problem}; events.${anonymous}: an anonymousId or a userId is required`
  }
  const issues = parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(job)'}: ${issue.message}`)
  return `${problem}; ${issues.join('; ')}`
}

/** Why a job is not in the shape the pump writes today, or undefined when it is. */
function shapeProblem(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) {
    return 'expected an object { partition, entryId, events }'
  }
  const job = data as Partial<Record<keyof EventsJob, unknown>>
  if (typeof job.partition !== 'number' || typeof job.entryId !== 'string') {
    return 'partition: expected a number, entryId: expected a string'
  }
  if (!Array.isArray(job.events) || job.events.length === 0) {
    return 'events: expected a non-empty array'
  }
  const broken = job.events.findIndex((event) => !looksStored(event))
  if (broken !== -1) {
    return `events[${broken}]: expected a stored event (id, siteId, a known type, ts, receivedAt, verified, anonymousId or userId, props)`
  }
  return undefined
}

/** The job id of a log entry: stable across pump restarts, unique per partition and entry. */
export function eventsJobId(partition: number, entryId: string): string {
  return `p${partition}-${entryId}`
}

/**
 * The job id of `count` (≥ 2) consecutive log entries from `firstEntryId` on. Never equal to a
 * single entry's id, so a retried entry added alone cannot be mistaken for the batch it was in.
 */
export function eventsBatchJobId(partition: number, firstEntryId: string, count: number): string {
  return `p${partition}-${firstEntryId}-n${count}`
}

/**
 * Default options of every events job: retries with backoff, and retention bounded by age and
 * count (BullMQ keeps finished jobs forever by default and would fill Redis). A job holds its
 * events (~0.5 KB each), so completed jobs holding 400,000 events cost ~200 MB of Redis: the
 * count kept is that many events' worth of full jobs (a job holds at least one entry, ~20
 * events). Not a hard bound: an entry may hold up to 500 events (one request) and is a job of
 * its own, so with requests that large the same count holds up to 2.5× as many events. They are kept up to 15 minutes; the pump's own records (workers/pump.ts) decide
 * whether an entry read again was already added, and only lean on this retention in a
 * millisecond window. Failed jobs stay a week (2,000,000 events' worth, ~1 GB), for the
 * operator to list and retry (`nudge jobs failed`, `nudge jobs retry`).
 * @example queue.addBulk([{ name: 'events', data, opts: { ...eventsJobOptions(200), jobId } }])
 */
export function eventsJobOptions(eventsPerJob: number) {
  // A job holds at least one entry, whatever eventsPerJob says: count jobs by their real size.
  const perJob = Math.max(eventsPerJob, TYPICAL_ENTRY_EVENTS)
  return {
    attempts: 5,
    backoff: { type: 'exponential', delay: 500 },
    removeOnComplete: { age: 900, count: Math.ceil(COMPLETED_EVENTS_KEPT / perJob) },
    removeOnFail: { age: 7 * 24 * 3600, count: Math.ceil(FAILED_EVENTS_KEPT / perJob) },
  } as const
}

/** Events whose completed jobs the queue keeps at most (~200 MB; see eventsJobOptions). */
const COMPLETED_EVENTS_KEPT = 400_000
/** Events whose failed jobs the queue keeps at most (~1 GB), for the operator to retry. */
const FAILED_EVENTS_KEPT = 2_000_000
/** Events of a browser's request, about: the SDK sends what queued up since its last flush. */
const TYPICAL_ENTRY_EVENTS = 20
