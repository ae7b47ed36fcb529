/**
 * @module The `events` job processor: parse the job, find the events not yet applied, update
 * recommendations (at-least-once, see recommendations.ts), then apply profiles (exactly once),
 * then the steps that read the updated profiles (offers, exactly once per decision).
 * The order matters: a crash between the two steps re-runs recommendations for that job's
 * events (a rare, harmless double count) but never double-counts a profile.
 */
import { UnrecoverableError } from 'bullmq'
import { type EventsJob, eventsJob } from '../../streams/jobs'
import { applyProfiles, mergeOnLogin, type ProfileStore, unapplied } from './profile'

/** A step that runs on the fresh events of a job before profiles are applied. */
export type BeforeProfiles = (events: EventsJob['events'], now: number) => Promise<void>

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
    for (const step of after) {
      await step(parsed.data.events, { now, replay: parsed.data.replay === true })
    }
    return { events: parsed.data.events.length, applied }
  }
}
