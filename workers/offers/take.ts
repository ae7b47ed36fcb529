/**
 * @module Taking an offer for one rule and shopper: the budget (the rule's slot), then the
 * shopper's caps, cooldown and delivery in one atomic step (decide-5.lua), exactly once per
 * decision key; the recommendations slot is filled here.
 */
import type { OutcomeRow } from '../../drizzle/queries/outcomes'
import { newId } from '../../runtime/ids'
import type { StoredEvent } from '../../streams/events'
import { INBOX, type Offer, type OfferProduct } from '../../streams/offers'
import { type PastOffer, parseOfferMember, type ShopperState } from '../../streams/rule-facts'
import { itemOf } from '../domain/profile-delta'
import { withScripts } from '../scripts/load'
import { bucket, type CompiledRule } from './compile'
import type { OfferDeps } from './deps'

/** Offers remembered per shopper (for caps, cooldown, acks and attribution). */
const OFFERS_KEPT = 100
/** Decision markers and past offers are kept this long: longer than any cap period or window. */
const MEMORY_MS = 31 * 86_400_000

export function isLive(rule: CompiledRule, now: number): boolean {
  return now >= rule.startsAt && now < rule.endsAt
}

export function row(
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

export type Taken = { result: string; row?: OutcomeRow; stop?: boolean }

const IN_COOLDOWN: Taken = { result: 'shopper is in this rule’s cooldown after an earlier offer' }
const CAPPED: Taken = { result: 'per-shopper cap reached' }

/**
 * The refusal the shopper's past offers already prove for this rule (its cooldown, its cap),
 * whatever its conditions: decide-5.lua would refuse too, so no round trip is needed, and the
 * decision step need not evaluate the conditions of a rule it could not take.
 */
export function knownRefusal(
  rule: CompiledRule,
  state: ShopperState,
  now: number,
): Taken | undefined {
  // `state.offers` is a subset of what decide-5.lua counts (read at the start of the job, plus
  // what this job took), so when it already says "cooldown" or "capped" the script would too;
  // when it does not, the script decides.
  const { cooldown, perShopper: cap } = rule
  if (cooldown > 0) {
    for (const o of state.offers) {
      if (now - o.at < cooldown) {
        return IN_COOLDOWN
      }
    }
  }
  if (cap) {
    let n = 0
    for (const o of state.offers) {
      if (o.ruleId === rule.id && now - o.at < cap.period) {
        n++
      }
    }
    if (n >= cap.count) {
      return CAPPED
    }
  }
  return undefined
}

/**
 * Takes the budget (rule slot) then the shopper's caps and delivers (shopper slot); gives the
 * budget unit back when the shopper's caps refuse.
 */
export async function take(
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
  const known = knownRefusal(rule, state, now)
  if (known) {
    return known
  }
  const redis = withScripts(deps.redis)
  const spec = rule.rule
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
    products: holdout
      ? []
      : await recommendationsFor(deps, rule, profile, state, event, decisionKey === event.id),
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
    return status === 'cooldown' ? IN_COOLDOWN : CAPPED
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
  /** Decided on the event itself, not a delayed trigger firing later (decision key ≠ event id). */
  now: boolean,
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
  // Never the item the shopper is looking at as the offer fires: personal lists lead with the
  // shopper's own recent items, and "you might like" the product on screen reads as a bug. A
  // delayed trigger fires later, off that page: a waiting cart's reminder may show the cart.
  const current = now ? itemOf(event)?.item : undefined
  const read = key ? await deps.redis.zrevrange(key, 0, slot.count) : []
  const ids = read.filter((id) => id !== current).slice(0, slot.count)
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
