/**
 * @module The offers step as the events processor runs it, and the delayed-trigger processor:
 * decide, then store the outcome rows of the job in one batch before the job completes (so a
 * crash re-runs the job and writes the same rows again, which the (offer, kind) key absorbs).
 */
import type { Db } from '../../drizzle/client'
import { insertOutcomes } from '../../drizzle/queries/outcomes'
import type { AfterProfiles } from '../processors/events'
import { decideOffers } from './decide'
import { fireDelayed } from './delayed'
import type { DelayedJob, OfferDeps } from './deps'

/** @example createEventsProcessor(profiles, [recs], [createOffersStep(deps, db)]) */
export function createOffersStep(deps: OfferDeps, db: Db): AfterProfiles {
  return async (events, { now, replay }) => {
    if (replay) {
      return
    }
    const rows = await decideOffers(deps, events, now)
    if (rows.length > 0) {
      await insertOutcomes(db, rows)
    }
  }
}

/** @example new Worker(QUEUES.delayedOffers, createDelayedProcessor(deps, db)) */
export function createDelayedProcessor(deps: OfferDeps, db: Db) {
  return async (job: { data: DelayedJob }): Promise<void> => {
    const rows = await fireDelayed(deps, job.data, Date.now())
    if (rows.length > 0) {
      await insertOutcomes(db, rows)
    }
  }
}
