/**
 * @module The types the offers step's parts share: what it needs from the workers' wiring, and
 * a delayed trigger's job data.
 */
import type { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import type { StoredEvent } from '../../streams/events'
import type { Keys } from '../../streams/keys'
import type { RuleIndex } from './rule-cache'
import type { Trace } from './trace'

export type DelayedJob = {
  siteId: string
  ruleId: string
  profile: string
  anchor: string
  event: StoredEvent
  /** How many "unless" events the profile had at trigger time; more at fire time cancels. */
  unlessCount: number
}

export type OfferDeps = {
  redis: Redis
  keys: Keys
  rules: () => RuleIndex
  /** Where delayed triggers wait; without it delayed rules are skipped (replay tools). */
  delayed?: Queue<DelayedJob>
  profileOf: (event: StoredEvent) => string
  attributionMs: number
  maxEventAgeMs: number
  /** NUDGE_PROFILE_TTL: an audience anchor set here lives as long as the profile. */
  profileTtlMs: number
  /** Counts decisions by outcome (runtime/metrics.ts `offerDecisions`). */
  onDecision?: (decision: Trace['decision']) => void
}
