/**
 * @module The `events` job processor: parse the job, find the events not yet applied, update
 * recommendations (at-least-once, see recommendations.ts), then apply profiles (exactly once).
 * The order matters: a crash between the two steps re-runs recommendations for that job's
 * events (a rare, harmless double count) but never double-counts a profile.
 */
import { UnrecoverableError } from 'bullmq'
import { type EventsJob, eventsJob } from '../../streams/jobs'
import { applyProfiles, mergeOnLogin, type ProfileStore, unapplied } from './profile'

/** A step that runs on the fresh events of a job before profiles are applied. */
export type BeforeProfiles = (events: EventsJob['events'], now: number) => Promise<void>

/**
 * @example const process = createEventsProcessor(profiles, [recommendations]); await process(job.data)
 */
export function createEventsProcessor(profiles: ProfileStore, before: BeforeProfiles[] = []) {
  return async (data: unknown): Promise<{ events: number; applied: number }> => {
    const parsed = eventsJob.safeParse(data)
    if (!parsed.success) {
      // A job that does not parse will never parse: fail it for good, do not burn attempts.
      throw new UnrecoverableError(
        `events job does not match the contract: ${parsed.error.message}`,
      )
    }
    const now = Date.now()
    const fresh = await unapplied(profiles, parsed.data.events)
    for (const step of before) {
      await step(fresh, now)
    }
    const applied = await applyProfiles(profiles, fresh, now)
    await mergeOnLogin(profiles, parsed.data.events)
    return { events: parsed.data.events.length, applied }
  }
}
