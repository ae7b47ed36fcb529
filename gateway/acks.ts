/**
 * @module Acks close the loop: a client's `ack {id, outcome}` becomes an OfferShown,
 * OfferClicked or OfferDismissed event in the event log, through the same producer as the api
 * (streams/produce.ts), and marks the offer acknowledged so no tab or node replays it.
 *
 * Only offers in this profile's inbox can be acked (an id from elsewhere gets `unknown_offer`),
 * so a client cannot write outcomes for offers it was never sent. The event id is derived from
 * the offer id and the outcome: the same ack from two tabs, or repeated after a reconnect,
 * counts once (the log's dedup window).
 */
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { type StoredEvent, storedEvent } from '../streams/events'
import { markAcked, readInbox } from '../streams/inbox'
import type { AckOutcome } from '../streams/live'
import type { Identity } from '../streams/live-token'
import { appendEvents, type EventLog, prepareEvent } from '../streams/produce'

const TYPES = {
  shown: 'OfferShown',
  clicked: 'OfferClicked',
  dismissed: 'OfferDismissed',
} as const

/** `ack:<offerId>:<outcome>`, or a hash of it when the offer id is too long for an event id. */
export function ackEventId(offerId: string, outcome: AckOutcome): string {
  const plain = `ack:${offerId}:${outcome}`
  return plain.length <= 128
    ? plain
    : `ack:${createHash('sha256').update(plain).digest('base64url').slice(0, 43)}`
}

/**
 * Validates an ack against the inbox and appends its event. Returns `unknown_offer` when the
 * offer is not (or no longer) in the profile's inbox; throws when Redis fails.
 * @example const result = await recordAck({ redis, log }, identity, 'ofr_1', 'shown')
 */
export async function recordAck(
  deps: { redis: Redis; log: EventLog },
  identity: Identity,
  offerId: string,
  outcome: AckOutcome,
  now = Date.now(),
): Promise<'recorded' | 'duplicate' | 'unknown_offer'> {
  const { entries } = await readInbox(deps.redis, deps.log.keys, identity.profileKey)
  const entry = entries.find((e) => e.offer.id === offerId)
  if (!entry) {
    return 'unknown_offer'
  }
  await markAcked(deps.redis, deps.log.keys, identity.profileKey, offerId, now)
  const event: StoredEvent = storedEvent.parse({
    id: ackEventId(offerId, outcome),
    type: TYPES[outcome],
    v: 1,
    ...(identity.anonymousId !== undefined && { anonymousId: identity.anonymousId }),
    ...(identity.userId !== undefined && { userId: identity.userId }),
    ts: now,
    props: {
      offerId,
      ruleId: entry.offer.ruleId,
      ruleVersion: entry.offer.ruleVersion,
    },
    receivedAt: now,
    siteId: identity.siteId,
    verified: identity.userId !== undefined,
  })
  const result = await appendEvents(
    deps.redis,
    deps.log,
    [prepareEvent(event, deps.log.partitions)],
    now,
  )
  return result.accepted === 1 ? 'recorded' : 'duplicate'
}
