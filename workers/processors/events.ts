/**
 * @module The `events` job processor: parse the job, update recommendations (at-least-once,
 * see recommendations.ts), then apply profiles (exactly once), then the steps that read the
 * updated profiles (offers, exactly once per decision).
 * The order matters: a crash between the two steps re-runs recommendations for that job's
 * events (a rare, harmless double count) but never double-counts a profile. The last writes of
 * the steps before profiles share the profiles' round trip, queued ahead of them: Redis runs a
 * pipeline in order, so a crash can cut it after those writes, never before them.
 */
import { UnrecoverableError } from 'bullmq'
import { checkEventsJob, type EventsJob } from '../../streams/jobs'
import { applyProfiles, mergeOnLogin, type ProfileStore, type QueueWrites } from './profile'

export type { QueueWrites }

/**
 * A step that runs on a job's events before profiles are applied. It skips the events already
 * applied to their profile (a redelivered job) itself, and may return its last writes to be
 * sent with the profiles.
 */
export type BeforeProfiles = (
  events: EventsJob['events'],
  now: number,
) => Promise<QueueWrites | undefined>

/**
 * A step that runs after profiles are applied and merged, on every event of the job (not only
 * the fresh ones: a job re-run after a crash must still finish what the first run did not), so
 * it must be idempotent per event itself. `replay` is set for replay and import jobs.
 */
export type AfterProfiles = (
  events: EventsJob['events'],
  context: { now: number; replay: boolean },
) => Promise<void>

/**
 * @example const process = createEventsProcessor(profiles, [recommendations]); await process(job.data)
 */
export function createEventsProcessor(
  profiles: ProfileStore,
  before: BeforeProfiles[] = [],
  after: AfterProfiles[] = [],
) {
  return async (data: unknown): Promise<{ events: number; applied: number }> => {
    const job = checkEventsJob(data)
    if (typeof job === 'string') {
      // A job that does not match will never match: fail it for good, do not burn attempts.
      throw new UnrecoverableError(`events job does not match the contract: ${job}`)
    }
    const now = Date.now()
    const writes: QueueWrites[] = []
    for (const step of before) {
      const queue = await step(job.events, now)
      if (queue) {
        writes.push(queue)
      }
    }
    const applied = await applyProfiles(profiles, job.events, now, writes)
    await mergeOnLogin(profiles, job.events)
    for (const step of after) {
      await step(job.events, { now, replay: job.replay === true })
    }
    return { events: job.events.length, applied }
  }
}
