/**
 * @module BullMQ job contracts: what the pump puts on the `events` queue and the processors
 * take off it, plus the default job options that bound retention.
 *
 * One job = one entry of the event log (one request's events of one partition), with jobId
 * `p<partition>-<entry id>` (BullMQ ids may not contain ":"). BullMQ refuses a second job with
 * an id it still holds, so a pump that dies between adding jobs and XACK adds nothing twice
 * when the entries come back.
 */
import { z } from 'zod'
import { EVENT_TYPES, storedEvent } from './events'

export const eventsJob = z.object({
  partition: z.number().int().min(0),
  entryId: z.string().regex(/^\d+-\d+$/),
  events: z.array(storedEvent).min(1),
  /** Set by replay and import: rebuild state, never send offers. */
  replay: z.boolean().optional(),
})
export type EventsJob = z.infer<typeof eventsJob>

const EVENT_TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES)

/**
 * Checks the shape of an events job as the worker takes it off the queue; returns the job, or
 * what is wrong and where. Not a full parse: every event was parsed with `storedEvent` before
 * the job was added (the pump's consumer and replay parse every entry, and dead-letter what
 * does not parse), and parsing it again cost ~10% of the worker's CPU. This checks what the
 * processors rely on, so a job from elsewhere (an older version, a hand-added job) fails with a
 * clear message instead of corrupting a profile.
 * @example const job = checkEventsJob(data); if (typeof job === 'string') throw new Error(job)
 */
export function checkEventsJob(data: unknown): EventsJob | string {
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
  for (let i = 0; i < job.events.length; i++) {
    const e = job.events[i] as Record<string, unknown> | null
    if (
      typeof e !== 'object' ||
      e === null ||
      typeof e.id !== 'string' ||
      typeof e.siteId !== 'string' ||
      typeof e.type !== 'string' ||
      !EVENT_TYPE_SET.has(e.type) ||
      typeof e.ts !== 'number' ||
      typeof e.receivedAt !== 'number' ||
      typeof e.props !== 'object' ||
      e.props === null
    ) {
      return `events[${i}]: expected a stored event (id, siteId, a known type, ts, receivedAt, props)`
    }
  }
  return data as EventsJob
}

/** The job id of a log entry: stable across pump restarts, unique per partition and entry. */
export function eventsJobId(partition: number, entryId: string): string {
  return `p${partition}-${entryId}`
}

/**
 * Default options of every events job: retries with backoff, and retention bounded by age and
 * count (BullMQ keeps finished jobs forever by default and would fill Redis). A job holds its
 * events (~10 KB for 20), so 20,000 completed jobs cost ~200 MB of Redis; they are kept up to
 * 15 minutes so the jobId dedup above covers a pump's take-over (NUDGE_CLAIM_IDLE) at moderate
 * rates. Past that a re-added job is processed again, which profiles absorb (exactly-once) and
 * recommendations count twice (at-least-once). Failed jobs stay a week, for the operator to
 * list and retry (`nudge jobs failed`, `nudge jobs retry`).
 */
export const EVENTS_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 900, count: 20_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 100_000 },
} as const
