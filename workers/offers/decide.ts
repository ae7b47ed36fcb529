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
import { isLive, row, take } from './take'
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
  }
  const work: Work[] = []
  const wanted = new Map<string, string>()
  /** Anonymous profiles whose offers (only) a logged-in shopper's acks and orders may concern. */
  const earlierProfiles = new Set<string>()
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
    // A shopper who logged in acks and orders as the user, but offers they got before logging
    // in were delivered to the anonymous profile, whose offers are not merged: read them too.
    const before = beforeLogin(deps, event, profile)
    work.push({ event, profile, site, before })
    if (!wanted.has(profile)) {
      wanted.set(profile, event.anonymousId ?? event.userId ?? profile)
    }
    if (before !== undefined) {
      earlierProfiles.add(before)
    }
  }
  if (work.length === 0) {
    return []
  }
  // Only a site with rules needs audience anchors; outcome bookkeeping alone writes nothing.
  const [states, earlierOffers] = await Promise.all([
    readShoppers(
      deps.redis,
      deps.keys,
      [...wanted].map(([profile, anchor]) => ({ profile, anchor })),
      work.some((w) => w.site !== undefined) && deps.profileTtlMs,
    ),
    readPastOffers(deps.redis, deps.keys, [...earlierProfiles]),
  ])
  const rows: OutcomeRow[] = []
  const traces: [string, TraceBuilder][] = []
  for (const { event, profile, site, before } of work) {
    const state = states.get(profile) as ShopperState
    const earlier = before === undefined ? [] : (earlierOffers.get(before) ?? [])
    rows.push(...outcomesOf(deps, event, profile, [...state.offers, ...earlier]))
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
