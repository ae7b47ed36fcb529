/**
 * @module The offers step: on each event, evaluate the site's active rules for its type, let
 * the highest-priority rule that passes (and is not capped) win, and hand the offer to the
 * shopper's inbox and channel (decide-5.lua). Also: schedule and cancel delayed triggers, and
 * turn acks and orders into outcome rows.
 *
 * Exactly once: every decision has a key (the event id, or event id + rule for a delayed
 * trigger) that decide-5.lua records atomically with the caps and the inbox entry, so a job run
 * twice hands out nothing twice, and its outcome rows are the same rows (offer id + kind).
 *
 * Never offers: events of a replay or import job, events processed more than `maxEventAgeMs`
 * after the api received them (a pipeline far behind), and backfills: events whose own time is
 * more than BACKFILL_AFTER before they were received (an import through the api). Both use
 * the server's clock where they can: a shopper whose device clock is off by hours still gets
 * offers, and conversions are timed by when the server received the order.
 */
import { createHash } from 'node:crypto'
import type { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import type { OutcomeRow } from '../../drizzle/queries/outcomes'
import { newId } from '../../runtime/ids'
import type { StoredEvent } from '../../streams/events'
import type { Keys } from '../../streams/keys'
import { INBOX, type Offer, type OfferProduct } from '../../streams/offers'
import { countField } from '../../streams/profile'
import type { Facts } from '../../streams/rule-conditions'
import {
  factsFor,
  type PastOffer,
  parseOfferMember,
  readShoppers,
  type ShopperState,
} from '../../streams/rule-facts'
import { withScripts } from '../scripts/load'
import { bucket, type CompiledRule } from './compile'
import type { RuleIndex, SiteRules } from './rule-cache'

/** Decision traces kept per shopper (newest first) and for how long. */
const TRACE = { keep: 20, ttlMs: 7 * 86_400_000, listed: 10, explained: 5 } as const
/**
 * An event stamped this long before the api received it is history being imported, not a
 * shopper acting now. A day, so that a device clock set to the wrong time zone is not taken
 * for a backfill.
 */
const BACKFILL_AFTER = 24 * 3_600_000
/** Offers remembered per shopper (for caps, cooldown, acks and attribution). */
const OFFERS_KEPT = 100
/** Decision markers and past offers are kept this long: longer than any cap period or window. */
const MEMORY_MS = 31 * 86_400_000

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
  /** Counts decisions by outcome (runtime/metrics.ts `offerDecisions`). */
  onDecision?: (decision: Trace['decision']) => void
}

type RuleResult = {
  ruleId: string
  version: number
  name: string
  result: string
  why?: string[]
}

export type Trace = {
  at: number
  eventId: string
  type: string
  decision: 'offer' | 'holdout' | 'none' | 'scheduled' | 'cancelled'
  offerId?: string
  /**
   * The rules that mattered, highest priority first: every rule whose conditions passed, and
   * up to 10 of the others (5 of them with the reasons in words). A short trace, so writing it
   * costs little next to deciding.
   */
  rules: RuleResult[]
  /** How many further rules ended each way: `{ "conditions not met": 240 }`. */
  others?: Record<string, number>
}

const NOT_MET = 'conditions not met'

/**
 * Builds one event's trace, lazily: with 1,000 rules most fail on every event, and most traces
 * are dropped (see decideOffers), so noting a rule stores two references, a failure past the
 * listed few is one increment, and entries and reasons in words are made only for traces kept.
 */
class TraceBuilder {
  decision: Trace['decision'] = 'none'
  offerId: string | undefined
  private readonly rules: CompiledRule[] = []
  private readonly results: string[] = []
  private readonly explain: (Facts | undefined)[] = []
  private explained = 0
  private notMet = 0
  private others: Record<string, number> | undefined

  constructor(
    private readonly event: StoredEvent,
    private readonly now: number,
  ) {}

  /** Lists a result (always when `important`), or counts it once the list is long enough. */
  note(rule: CompiledRule, result: string, important: boolean, facts?: Facts): void {
    if (important || this.rules.length < TRACE.listed) {
      this.rules.push(rule)
      this.results.push(result)
      this.explain.push(facts && this.explained++ < TRACE.explained ? facts : undefined)
      return
    }
    this.count(result, 1)
  }

  count(result: string, n: number): void {
    if (n <= 0) {
      return
    }
    if (result === NOT_MET) {
      this.notMet += n
      return
    }
    this.others ??= {}
    this.others[result] = (this.others[result] ?? 0) + n
  }

  toTrace(): Trace {
    const trace: Trace = {
      at: this.now,
      eventId: this.event.id,
      type: this.event.type,
      decision: this.decision,
      rules: this.rules.map((rule, i) => {
        const entry: RuleResult = {
          ruleId: rule.id,
          version: rule.version,
          name: rule.rule.name,
          result: this.results[i] as string,
        }
        const facts = this.explain[i]
        if (facts) {
          entry.why = rule.explain(facts).lines
        }
        return entry
      }),
    }
    if (this.offerId !== undefined) {
      trace.offerId = this.offerId
    }
    if (this.notMet > 0 || this.others) {
      trace.others = { ...(this.notMet > 0 && { [NOT_MET]: this.notMet }), ...this.others }
    }
    return trace
  }
}

const OUTCOME_OF = {
  OfferShown: 'shown',
  OfferClicked: 'clicked',
  OfferDismissed: 'dismissed',
} as const

function isLive(rule: CompiledRule, now: number): boolean {
  return now >= rule.startsAt && now < rule.endsAt
}

/**
 * One pending delayed trigger per rule and shopper: three carts in a row wait for one reminder,
 * not three (BullMQ ignores an add whose id is waiting). Finished delayed jobs are removed at
 * once (workers/main.ts), so the next trigger after the reminder schedules a new one.
 */
function delayedJobId(ruleId: string, profile: string): string {
  const digest = createHash('sha256').update(profile).digest('base64url')
  return `delay-${ruleId}-${digest.slice(0, 22)}`
}

function row(
  offer: PastOffer,
  kind: OutcomeRow['kind'],
  siteId: string,
  profile: string,
  at: number,
): OutcomeRow {
  return {
    offerId: offer.offerId,
    kind,
    siteId,
    ruleId: offer.ruleId,
    ruleVersion: offer.ruleVersion,
    profileKey: profile,
    at: new Date(at),
  }
}

/**
 * Runs the offers step over a job's events; resolves to the outcome rows to store.
 * @example const rows = await decideOffers(deps, events, Date.now())
 */
export async function decideOffers(
  deps: OfferDeps,
  events: readonly StoredEvent[],
  now: number,
): Promise<OutcomeRow[]> {
  const index = deps.rules()
  type Work = { event: StoredEvent; profile: string; site: SiteRules | undefined }
  const work: Work[] = []
  const wanted = new Map<string, string>()
  for (const event of events) {
    const site = index.get(event.siteId)
    const relevant =
      event.type in OUTCOME_OF ||
      event.type === 'OrderCompleted' ||
      (site !== undefined &&
        (site.immediate.has(event.type) ||
          site.delayed.has(event.type) ||
          site.unless.has(event.type)))
    if (!relevant) {
      continue
    }
    const profile = deps.profileOf(event)
    work.push({ event, profile, site })
    if (!wanted.has(profile)) {
      wanted.set(profile, event.anonymousId ?? event.userId ?? profile)
    }
  }
  if (work.length === 0) {
    return []
  }
  // Only a site with rules needs audience anchors; outcome bookkeeping alone writes nothing.
  const states = await readShoppers(
    deps.redis,
    deps.keys,
    [...wanted].map(([profile, anchor]) => ({ profile, anchor })),
    work.some((w) => w.site !== undefined),
  )
  const rows: OutcomeRow[] = []
  const traces: [string, TraceBuilder][] = []
  for (const { event, profile, site } of work) {
    const state = states.get(profile) as ShopperState
    rows.push(...outcomesOf(deps, event, profile, state))
    if (!site) {
      continue
    }
    if (site.unless.has(event.type)) {
      await cancelDelayed(deps, profile, event.type)
    }
    if (
      now - event.receivedAt > deps.maxEventAgeMs ||
      event.receivedAt - event.ts > BACKFILL_AFTER
    ) {
      continue
    }
    const delayed = site.delayed.get(event.type) ?? []
    const immediate = site.immediate.get(event.type) ?? []
    if (delayed.length === 0 && immediate.length === 0) {
      continue
    }
    const facts = factsFor(event, state, site.timezone, site.halfLifeMs)
    const builder = new TraceBuilder(event, now)
    const consider = (rule: CompiledRule): boolean => {
      if (!isLive(rule, now)) {
        builder.note(rule, 'outside its schedule', false)
        return false
      }
      // The hash is only worth computing for a partial audience.
      const audience = rule.rule.audiencePercent
      if (audience < 100 && bucket(state.anchor, rule.id, 'audience') >= audience) {
        builder.note(rule, 'shopper not in its audience', false)
        return false
      }
      if (!rule.predicate(facts)) {
        builder.note(rule, NOT_MET, false, facts)
        return false
      }
      return true
    }

    for (const rule of delayed) {
      if (consider(rule) && deps.delayed) {
        await scheduleDelayed(deps, rule, profile, state, event)
        builder.note(
          rule,
          `scheduled in ${Math.round((rule.rule.trigger.delay ?? 0) / 1000)}s`,
          true,
        )
        builder.decision = 'scheduled'
      }
    }
    for (const [i, rule] of immediate.entries()) {
      if (!consider(rule)) {
        continue
      }
      const taken = await take(deps, rule, profile, state, event, event.id, now)
      builder.note(rule, taken.result, true)
      if (taken.row) {
        rows.push(taken.row)
        builder.decision = taken.row.kind === 'holdout' ? 'holdout' : 'offer'
        builder.offerId = taken.row.offerId
      }
      if (taken.row || taken.stop) {
        builder.count('not considered: a higher-priority rule won', immediate.length - i - 1)
        break
      }
    }
    deps.onDecision?.(builder.decision)
    // Of a job's "nothing happened" traces only each shopper's last is kept: the list holds
    // 20, and twenty identical misses of one burst would push out the decisions that matter.
    const previous = traces.findLastIndex(([p]) => p === profile)
    if (previous >= 0 && traces[previous]?.[1].decision === 'none') {
      traces.splice(previous, 1)
    }
    traces.push([profile, builder])
  }
  await recordTraces(
    deps,
    traces.map(([profile, builder]) => [profile, builder.toTrace()]),
  )
  return rows
}

/** Shown/clicked/dismissed acks and conversions, for offers this profile really received. */
function outcomesOf(
  deps: OfferDeps,
  event: StoredEvent,
  profile: string,
  state: ShopperState,
): OutcomeRow[] {
  if (
    event.type === 'OfferShown' ||
    event.type === 'OfferClicked' ||
    event.type === 'OfferDismissed'
  ) {
    const offer = state.offers.find((o) => o.offerId === event.props.offerId && o.kind === 'd')
    return offer ? [row(offer, OUTCOME_OF[event.type], event.siteId, profile, event.ts)] : []
  }
  if (event.type === 'OrderCompleted') {
    return state.offers
      .filter((o) => o.at <= event.receivedAt && event.receivedAt - o.at <= deps.attributionMs)
      .map((o) => row(o, 'converted', event.siteId, profile, event.ts))
  }
  return []
}

type Taken = { result: string; row?: OutcomeRow; stop?: boolean }

/**
 * Takes the budget (rule slot) then the shopper's caps and delivers (shopper slot); gives the
 * budget unit back when the shopper's caps refuse.
 */
async function take(
  deps: OfferDeps,
  rule: CompiledRule,
  profile: string,
  state: ShopperState,
  event: StoredEvent,
  decisionKey: string,
  now: number,
): Promise<Taken> {
  // Decided before (a re-run of this job): the same row again, before any cap could refuse it.
  const prior = state.offers.find((o) => o.decisionKey === decisionKey)
  if (prior) {
    return {
      result: 'already decided earlier (nothing new sent)',
      row: row(prior, prior.kind === 'h' ? 'holdout' : 'delivered', event.siteId, profile, now),
      stop: true,
    }
  }
  const redis = withScripts(deps.redis)
  const spec = rule.rule
  // Known refusals skip the round trips. `state.offers` is a subset of what decide-5.lua
  // counts (read at the start of the job, plus what this job took), so when it already says
  // "cooldown" or "capped" the script would too; when it does not, the script decides.
  const cooldown = spec.caps.cooldown ?? 0
  if (cooldown > 0 && state.offers.some((o) => now - o.at < cooldown)) {
    return { result: 'shopper is in this rule’s cooldown after an earlier offer' }
  }
  const cap = spec.caps.perShopper
  if (
    cap &&
    state.offers.filter((o) => o.ruleId === rule.id && now - o.at < cap.period).length >= cap.count
  ) {
    return { result: 'per-shopper cap reached' }
  }
  const holdout = bucket(state.anchor, rule.id, 'holdout') < spec.holdoutPercent
  const budget = spec.caps.budget
  const budgetKey = deps.keys.ruleBudget(rule.id)
  const budgetField = `${profile}|${decisionKey}`
  if (!holdout && budget !== undefined) {
    if ((await redis.nudgeBudget(budgetKey, budgetField, budget, 'take')) === 0) {
      return { result: 'budget spent' }
    }
  }
  const offer: Offer = {
    id: newId('offer'),
    ruleId: rule.id,
    ruleVersion: rule.version,
    title: spec.offer.title,
    body: spec.offer.body,
    cta: spec.offer.cta,
    ...(spec.offer.code !== undefined && { code: spec.offer.code }),
    ...(spec.offer.imageUrl !== undefined && { imageUrl: spec.offer.imageUrl }),
    products: holdout ? [] : await recommendationsFor(deps, rule, profile, state, event),
    decidedAt: now,
    expiresAt: now + spec.offer.expiresIn,
  }
  const [status, member] = await redis.nudgeDecide(
    deps.keys.profileDecided(profile),
    deps.keys.profileOffers(profile),
    deps.keys.profileCaps(profile, rule.id),
    deps.keys.inbox(profile),
    deps.keys.live(profile),
    decisionKey,
    now,
    offer.id,
    rule.id,
    rule.version,
    spec.caps.perShopper?.count ?? 0,
    spec.caps.perShopper?.period ?? 0,
    spec.caps.cooldown ?? 0,
    holdout ? 'h' : 'd',
    JSON.stringify(offer),
    INBOX.maxLength,
    INBOX.ttlMs,
    MEMORY_MS,
    OFFERS_KEPT,
  )
  if (status === 'cooldown' || status === 'capped') {
    if (!holdout && budget !== undefined) {
      await redis.nudgeBudget(budgetKey, budgetField, budget, 'refund')
    }
    return status === 'cooldown'
      ? { result: 'shopper is in this rule’s cooldown after an earlier offer' }
      : { result: 'per-shopper cap reached' }
  }
  const past = member ? parseOfferMember(member, now) : undefined
  if (!past) {
    return { result: 'already decided earlier (nothing new sent)', stop: true }
  }
  if (status === 'new') {
    state.offers.push(past)
  }
  const kind = past.kind === 'h' ? 'holdout' : 'delivered'
  return {
    result:
      status === 'dup'
        ? 'already decided earlier (nothing new sent)'
        : kind === 'holdout'
          ? 'won, shopper in the holdout: recorded, nothing sent'
          : 'won: offer sent',
    row: row(past, kind, event.siteId, profile, now),
  }
}

async function recommendationsFor(
  deps: OfferDeps,
  rule: CompiledRule,
  profile: string,
  state: ShopperState,
  event: StoredEvent,
): Promise<OfferProduct[]> {
  const slot = rule.rule.offer.recommendations
  if (!slot) {
    return []
  }
  let key: string | undefined
  if (slot.source === 'personal') {
    key = deps.keys.profileRecs(profile)
  } else if (slot.source === 'trending') {
    key = deps.keys.recTrending(event.siteId)
  } else {
    const item = state.recent.findLast((r) => r.item !== undefined)?.item
    key = item === undefined ? undefined : deps.keys.recNeighbours(event.siteId, item)
  }
  const ids = key ? await deps.redis.zrevrange(key, 0, slot.count - 1) : []
  const known = new Map(state.recent.filter((r) => r.item).map((r) => [r.item as string, r]))
  return ids.map((id) => {
    const seen = known.get(id)
    return {
      id,
      ...(seen?.name !== undefined && { name: seen.name }),
      ...(seen?.category !== undefined && { category: seen.category }),
      ...(seen?.price !== undefined && { price: seen.price }),
    }
  })
}

async function scheduleDelayed(
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
async function cancelDelayed(deps: OfferDeps, profile: string, type: string): Promise<void> {
  const key = deps.keys.profileDelayed(profile)
  const waiting = await deps.redis.hgetall(key)
  for (const [jobId, unless] of Object.entries(waiting)) {
    if (unless === type) {
      await deps.delayed?.remove(jobId)
      await deps.redis.hdel(key, jobId)
    }
  }
}

/** Writes a job's traces in one round trip (diagnostics: a trace lost to a crash is harmless). */
async function recordTraces(deps: OfferDeps, traces: readonly [string, Trace][]): Promise<void> {
  if (traces.length === 0) {
    return
  }
  const pipeline = deps.redis.pipeline()
  for (const [profile, trace] of traces) {
    const key = deps.keys.profileDecisions(profile)
    pipeline
      .lpush(key, JSON.stringify(trace))
      .ltrim(key, 0, TRACE.keep - 1)
      .pexpire(key, TRACE.ttlMs)
  }
  await pipeline.exec()
}

function recordTrace(deps: OfferDeps, profile: string, trace: Trace): Promise<void> {
  return recordTraces(deps, [[profile, trace]])
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
  const states = await readShoppers(deps.redis, deps.keys, [
    { profile: job.profile, anchor: job.anchor },
  ])
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
