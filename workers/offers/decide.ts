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
 *
 * Cost: with 1,000 rules, most of an event's rules are never evaluated, and the decision and
 * its trace are the same as if all were. The candidate index (streams/rule-index.ts) skips
 * rules that provably fail; a rule whose taking the shopper's past offers already refuse (the
 * cooldown after an offer) is passed over unevaluated, since either way the walk goes on; the
 * trace records both and evaluates them only if it is kept (trace.ts).
 */
import type { OutcomeRow } from '../../drizzle/queries/outcomes'
import type { StoredEvent } from '../../streams/events'
import {
  factsFor,
  type PastOffer,
  readPastOffers,
  readShoppers,
  type ShopperState,
} from '../../streams/rule-facts'
import { bucket, type CompiledRule } from './compile'
import { cancelDelayed, scheduleDelayed } from './delayed'
import type { OfferDeps } from './deps'
import type { SiteRules } from './rule-cache'
import { isLive, knownRefusal, row, take } from './take'
import { NOT_MET, recordTraces, TraceBuilder } from './trace'

/**
 * An event stamped this long before the api received it is history being imported, not a
 * shopper acting now. A day, so that a device clock set to the wrong time zone is not taken
 * for a backfill.
 */
const BACKFILL_AFTER = 24 * 3_600_000

const OUTCOME_OF = {
  OfferShown: 'shown',
  OfferClicked: 'clicked',
  OfferDismissed: 'dismissed',
} as const

/**
 * The anonymous profile a proven user's ack or order may concern (offers delivered before the
 * login), or undefined.
 */
function beforeLogin(deps: OfferDeps, event: StoredEvent, profile: string): string | undefined {
  if (
    !event.verified ||
    event.anonymousId === undefined ||
    !(event.type in OUTCOME_OF || event.type === 'OrderCompleted')
  ) {
    return undefined
  }
  const anonymous = deps.profileOf({ ...event, userId: undefined, verified: false })
  return anonymous === profile ? undefined : anonymous
}

/** Too old to decide on: a pipeline far behind, or history being imported (see the module). */
function tooLate(deps: OfferDeps, event: StoredEvent, now: number): boolean {
  return now - event.receivedAt > deps.maxEventAgeMs || event.receivedAt - event.ts > BACKFILL_AFTER
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
  type Work = {
    event: StoredEvent
    profile: string
    site: SiteRules | undefined
    before: string | undefined
    /** Rules are evaluated on it (not only outcomes and cancellations). */
    decides: boolean
  }
  const work: Work[] = []
  /**
   * Each profile's state to read: the anchor it claims is its first relevant event's; `read`
   * false leaves it unread. `facts`: rules are evaluated for it, so read what they look at.
   */
  const wanted = new Map<
    string,
    { profile: string; anchor: string; read: boolean; facts: boolean }
  >()
  /** Anonymous profiles whose offers (only) a logged-in shopper's acks and orders may concern. */
  const earlierProfiles = new Set<string>()
  for (const event of events) {
    const site = index.get(event.siteId)
    const outcome = event.type in OUTCOME_OF || event.type === 'OrderCompleted'
    const relevant =
      outcome ||
      (site !== undefined &&
        (site.immediate.has(event.type) ||
          site.delayed.has(event.type) ||
          site.unless.has(event.type)))
    if (!relevant) {
      continue
    }
    const profile = deps.profileOf(event)
    // A shopper who logged in acks and orders as the user, but offers they got before logging
    // in were delivered to the anonymous profile, whose offers are not merged: read them too.
    const before = beforeLogin(deps, event, profile)
    const decides =
      site !== undefined &&
      !tooLate(deps, event, now) &&
      (site.immediate.has(event.type) || site.delayed.has(event.type))
    work.push({ event, profile, site, before, decides })
    // Nothing to decide and no outcome: the read would only claim the audience anchor. An
    // anonymous profile's anchor is its anonymous id whichever of its events claims it, so the
    // claim can wait for an event that decides (a pipeline catching up, or an import, then
    // costs no round trip); a logged-in user's is the anonymous id of the first event that
    // claims it, so theirs is claimed now, as ever.
    const read =
      decides || outcome || (site !== undefined && event.verified && event.userId !== undefined)
    const want = wanted.get(profile)
    if (!want) {
      wanted.set(profile, {
        profile,
        anchor: event.anonymousId ?? event.userId ?? profile,
        read,
        facts: decides,
      })
    } else {
      want.read ||= read
      want.facts ||= decides
    }
    if (before !== undefined) {
      earlierProfiles.add(before)
    }
  }
  if (work.length === 0) {
    return []
  }
  const toRead = [...wanted.values()].filter((w) => w.read)
  // Only a site with rules needs audience anchors; outcome bookkeeping alone writes nothing.
  const [states, earlierOffers] = await Promise.all([
    toRead.length === 0
      ? new Map<string, ShopperState>()
      : readShoppers(
          deps.redis,
          deps.keys,
          toRead,
          work.some((w) => w.site !== undefined) && deps.profileTtlMs,
        ),
    readPastOffers(deps.redis, deps.keys, [...earlierProfiles]),
  ])
  const rows: OutcomeRow[] = []
  const traces: [string, TraceBuilder][] = []
  for (const { event, profile, site, before, decides } of work) {
    // Read wherever it is used below: for outcomes and decisions.
    const state = states.get(profile) as ShopperState
    if (event.type in OUTCOME_OF || event.type === 'OrderCompleted') {
      const earlier = before === undefined ? [] : (earlierOffers.get(before) ?? [])
      rows.push(...outcomesOf(deps, event, profile, [...state.offers, ...earlier]))
    }
    if (!site) {
      continue
    }
    if (site.unless.has(event.type)) {
      await cancelDelayed(deps, profile, event.type)
    }
    if (!decides) {
      continue
    }
    const delayed = site.delayed.get(event.type)
    const immediate = site.immediate.get(event.type)
    const facts = factsFor(event, state, site.timezone, site.halfLifeMs)
    const builder = new TraceBuilder(event, now, facts)
    /** Outside its schedule or audience (noted), or else its conditions have the last word. */
    const excluded = (rule: CompiledRule): boolean => {
      if (!rule.gated) {
        return false
      }
      if (!isLive(rule, now)) {
        builder.note(rule, 'outside its schedule', false)
        return true
      }
      // The hash is only worth computing for a partial audience.
      const audience = rule.audiencePercent
      if (audience < 100 && bucket(state.anchor, rule.id, 'audience') >= audience) {
        builder.note(rule, 'shopper not in its audience', false)
        return true
      }
      return false
    }

    // Rules in priority order: the index's candidates are considered, the rules between them
    // fail their conditions (rule-index.ts) and go into the trace as such, unevaluated.
    if (delayed) {
      const { rules } = delayed
      let next = 0
      for (const at of delayed.index.candidates(facts)) {
        builder.skipped(rules, next, at)
        next = at + 1
        const rule = rules[at] as CompiledRule
        if (excluded(rule)) {
          continue
        }
        if (!rule.predicate(facts)) {
          builder.note(rule, NOT_MET, false, true)
          continue
        }
        if (deps.delayed) {
          await scheduleDelayed(deps, rule, profile, state, event)
          builder.note(
            rule,
            `scheduled in ${Math.round((rule.rule.trigger.delay ?? 0) / 1000)}s`,
            true,
          )
          builder.decision = 'scheduled'
        }
      }
      builder.skipped(rules, next, rules.length)
    }
    if (immediate) {
      const { rules } = immediate
      // A re-run of this job: the first rule that passes takes the earlier decision, whatever
      // caps say now, so every candidate's conditions count.
      const decidedBefore = state.offers.some((o) => o.decisionKey === event.id)
      let next = 0
      for (const at of immediate.index.candidates(facts)) {
        builder.skipped(rules, next, at)
        next = at + 1
        const rule = rules[at] as CompiledRule
        if (excluded(rule)) {
          continue
        }
        // Refused whatever its conditions say (a busy shopper's cooldown): the decision goes on
        // to the next rule either way, and only a trace that is kept evaluates them.
        const refusal = decidedBefore ? undefined : knownRefusal(rule, state, now)
        if (refusal) {
          builder.refused(rule, refusal.result)
          continue
        }
        if (!rule.predicate(facts)) {
          builder.note(rule, NOT_MET, false, true)
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
          builder.count('not considered: a higher-priority rule won', rules.length - next)
          next = rules.length
          break
        }
      }
      builder.skipped(rules, next, rules.length)
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
  offers: readonly PastOffer[],
): OutcomeRow[] {
  if (
    event.type === 'OfferShown' ||
    event.type === 'OfferClicked' ||
    event.type === 'OfferDismissed'
  ) {
    const offer = offers.find((o) => o.offerId === event.props.offerId && o.kind === 'd')
    return offer ? [row(offer, OUTCOME_OF[event.type], event.siteId, profile, event.ts)] : []
  }
  if (event.type === 'OrderCompleted') {
    return offers
      .filter((o) => o.at <= event.receivedAt && event.receivedAt - o.at <= deps.attributionMs)
      .map((o) => row(o, 'converted', event.siteId, profile, event.ts))
  }
  return []
}
