/**
 * @module Delayed triggers: scheduled as BullMQ delayed jobs (one pending per rule and
 * shopper), cancelled by their "unless" event, and fired with the fire-time checks.
 */
import { createHash } from 'node:crypto'
import type { OutcomeRow } from '../../drizzle/queries/outcomes'
import type { StoredEvent } from '../../streams/events'
import { countField } from '../../streams/profile'
import { readShoppers, type ShopperState } from '../../streams/rule-facts'
import type { CompiledRule } from './compile'
import type { DelayedJob, OfferDeps } from './deps'
import { isLive, take } from './take'
import { recordTrace, type Trace } from './trace'

/**
 * One pending delayed trigger per rule and shopper: three carts in a row wait for one reminder,
 * not three (BullMQ ignores an add whose id is waiting). Finished delayed jobs are removed at
 * once (workers/main.ts), so the next trigger after the reminder schedules a new one.
 */
function delayedJobId(ruleId: string, profile: string): string {
  const digest = createHash('sha256').update(profile).digest('base64url')
  return `delay-${ruleId}-${digest.slice(0, 22)}`
}

export async function scheduleDelayed(
  deps: OfferDeps,
  rule: CompiledRule,
  profile: string,
  state: ShopperState,
  event: StoredEvent,
): Promise<void> {
  const unless = rule.rule.trigger.unless
  const jobId = delayedJobId(rule.id, profile)
  const data: DelayedJob = {
    siteId: event.siteId,
    ruleId: rule.id,
    profile,
    anchor: state.anchor,
    event,
    unlessCount: unless === undefined ? 0 : Number(state.profile[countField(unless)] ?? 0),
  }
  const delay = rule.rule.trigger.delay ?? 0
  // While one is waiting for this rule and shopper, BullMQ ignores this add (same job id).
  await deps.delayed?.add('delayed-offer', data, { jobId, delay })
  if (unless !== undefined) {
    const key = deps.keys.profileDelayed(profile)
    await deps.redis
      .multi()
      .hset(key, jobId, unless)
      .pexpire(key, delay + 3_600_000)
      .exec()
  }
}

/** Removes the delayed jobs this event type cancels; their fire-time check is the backstop. */
export async function cancelDelayed(deps: OfferDeps, profile: string, type: string): Promise<void> {
  const key = deps.keys.profileDelayed(profile)
  const waiting = await deps.redis.hgetall(key)
  for (const [jobId, unless] of Object.entries(waiting)) {
    if (unless === type) {
      await deps.delayed?.remove(jobId)
      await deps.redis.hdel(key, jobId)
    }
  }
}

/**
 * Fires one delayed trigger: cancelled when an "unless" event came meanwhile, dropped when the
 * rule is no longer active, else caps and delivery as for an immediate rule.
 * @example const rows = await fireDelayed(deps, job.data, Date.now())
 */
export async function fireDelayed(
  deps: OfferDeps,
  job: DelayedJob,
  now: number,
): Promise<OutcomeRow[]> {
  const site = deps.rules().get(job.siteId)
  const rule = site?.byId.get(job.ruleId)
  const trace: Trace = {
    at: now,
    eventId: job.event.id,
    type: job.event.type,
    decision: 'none',
    rules: [],
  }
  await deps.redis.hdel(
    deps.keys.profileDelayed(job.profile),
    delayedJobId(job.ruleId, job.profile),
  )
  if (!rule || rule.rule.trigger.delay === undefined) {
    trace.rules.push({ ruleId: job.ruleId, version: 0, name: '', result: 'rule no longer active' })
    await recordTrace(deps, job.profile, trace)
    return []
  }
  const base = { ruleId: rule.id, version: rule.version, name: rule.rule.name }
  // Due at receivedAt + delay; a job retried long after that (an outage, a manual retry days
  // later) would send a reminder nobody expects any more.
  if (now - (job.event.receivedAt + rule.rule.trigger.delay) > deps.maxEventAgeMs) {
    trace.rules.push({ ...base, result: 'too late: the delayed trigger was due long ago' })
    await recordTrace(deps, job.profile, trace)
    return []
  }
  const unless = rule.rule.trigger.unless
  const states = await readShoppers(
    deps.redis,
    deps.keys,
    [{ profile: job.profile, anchor: job.anchor }],
    deps.profileTtlMs,
  )
  const state = states.get(job.profile) as ShopperState
  if (unless !== undefined && Number(state.profile[countField(unless)] ?? 0) > job.unlessCount) {
    trace.decision = 'cancelled'
    trace.rules.push({ ...base, result: `cancelled: ${unless} happened during the delay` })
    await recordTrace(deps, job.profile, trace)
    return []
  }
  if (!isLive(rule, now)) {
    trace.rules.push({ ...base, result: 'outside its schedule' })
    await recordTrace(deps, job.profile, trace)
    return []
  }
  const taken = await take(
    deps,
    rule,
    job.profile,
    state,
    job.event,
    `${job.event.id}:d:${rule.id}`,
    now,
  )
  trace.rules.push({ ...base, result: taken.result })
  if (taken.row) {
    trace.decision = taken.row.kind === 'holdout' ? 'holdout' : 'offer'
    trace.offerId = taken.row.offerId
  }
  await recordTrace(deps, job.profile, trace)
  return taken.row ? [taken.row] : []
}
