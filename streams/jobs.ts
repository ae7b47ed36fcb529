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
import { storedEvent } from './events'

export const eventsJob = z.object({
  partition: z.number().int().min(0),
  entryId: z.string().regex(/^\d+-\d+$/),
  events: z.array(storedEvent).min(1),
  /** Set by replay and import: rebuild state, never send offers. */
  replay: z.boolean().optional(),
})
export type EventsJob = z.infer<typeof eventsJob>

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
