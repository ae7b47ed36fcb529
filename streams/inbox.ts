/**
 * @module A shopper's offer inbox (streams/offers.ts INBOX): how an offer is delivered, how a
 * gateway reads it back for recovery, and the per-profile set of acknowledged offers.
 *
 * Delivery contract (`deliverOffer`, scripts/deliver-offer-2.lua): one script on the profile's
 * slot does XADD to `profile:{u}:inbox` (capped at INBOX.maxLength), PEXPIRE INBOX.ttlMs, then
 * PUBLISH of the same JSON on `live:{u}`, atomically. So whoever receives the publish can also
 * find the offer in the inbox, and a gateway that missed the publish (down, reconnecting)
 * recovers it from there. A decision script may do the same three calls itself instead.
 * Publishing is plain PUBLISH (standalone Redis); on Redis Cluster it becomes SPUBLISH, which the
 * shared hash tag (and the channel passed as a key) already allows.
 *
 * Acks: an offer id acknowledged shown, clicked or dismissed is recorded in
 * `profile:{u}:inbox:acks` (newest 100 kept, same TTL as the inbox) and is never replayed again,
 * on any tab or node.
 */
import { readFileSync } from 'node:fs'
import type { Redis } from 'ioredis'
import type { Keys } from './keys'
import { INBOX, type Offer, offer as offerSchema } from './offers'

/** Acknowledged offer ids kept per profile: more than the inbox holds, so none is forgotten early. */
const ACKS_KEPT = 100

const DELIVER_LUA = readFileSync(new URL('./scripts/deliver-offer-2.lua', import.meta.url), 'utf8')

type DeliverClient = Redis & {
  nudgeDeliverOffer(
    inbox: string,
    channel: string,
    maxLength: number,
    field: string,
    json: string,
    ttlMs: number,
  ): Promise<string>
}

/** An inbox entry as read back: its stream id (position), the offer, and whether it was acked. */
export type InboxEntry = { streamId: string; offer: Offer; acked: boolean }

/**
 * Validates and delivers one offer to a profile: inbox + publish, atomically. Returns the inbox
 * entry id. The decision workers do the same (or call this) after taking caps.
 * Exact MAXLEN rather than `~`: approximate trimming frees whole 100-entry nodes, so `~ 20`
 * would never trim at all; for 20 entries exact trimming costs nothing.
 * @example await deliverOffer(redis, keys, 'sit_1:a:a-1', offer)
 */
export async function deliverOffer(
  redis: Redis,
  keys: Keys,
  profileKey: string,
  offer: Offer,
): Promise<string> {
  const client = redis as DeliverClient
  if (typeof client.nudgeDeliverOffer !== 'function') {
    redis.defineCommand('nudgeDeliverOffer', { numberOfKeys: 2, lua: DELIVER_LUA })
  }
  return client.nudgeDeliverOffer(
    keys.inbox(profileKey),
    keys.live(profileKey),
    INBOX.maxLength,
    INBOX.field,
    JSON.stringify(offerSchema.parse(offer)),
    INBOX.ttlMs,
  )
}

/**
 * The profile's inbox, oldest first, each entry flagged when acknowledged. Entries that do not parse
 * (written by a buggy producer) are skipped and counted, never sent.
 * @example const { entries } = await readInbox(redis, keys, 'sit_1:a:a-1')
 */
export async function readInbox(
  redis: Redis,
  keys: Keys,
  profileKey: string,
): Promise<{ entries: InboxEntry[]; invalid: number }> {
  const replies = await redis
    .multi()
    .xrange(keys.inbox(profileKey), '-', '+')
    .zrange(keys.inboxAcks(profileKey), 0, -1)
    .exec()
  if (!replies) {
    throw new Error('MULTI was aborted')
  }
  for (const [error] of replies) {
    if (error) {
      throw error
    }
  }
  const raw = replies[0]?.[1] as [string, string[]][]
  const acked = new Set(replies[1]?.[1] as string[])
  const entries: InboxEntry[] = []
  let invalid = 0
  for (const [streamId, fields] of raw) {
    const at = fields.indexOf(INBOX.field)
    const parsed = at === -1 ? undefined : parseOffer(fields[at + 1])
    if (!parsed) {
      invalid += 1
    } else {
      entries.push({ streamId, offer: parsed, acked: acked.has(parsed.id) })
    }
  }
  return { entries, invalid }
}

/**
 * Records that the shopper acknowledged an offer, so no tab or node replays it. Idempotent.
 * @example await markAcked(redis, keys, 'sit_1:a:a-1', 'ofr_…')
 */
export async function markAcked(
  redis: Redis,
  keys: Keys,
  profileKey: string,
  offerId: string,
  now = Date.now(),
): Promise<void> {
  const acks = keys.inboxAcks(profileKey)
  await redis
    .multi()
    .zadd(acks, 'NX', now, offerId)
    .zremrangebyrank(acks, 0, -(ACKS_KEPT + 1))
    .pexpire(acks, INBOX.ttlMs)
    .exec()
}

/** Parses offer JSON from the inbox or a publish; undefined when it breaks the contract. */
export function parseOffer(json: string | undefined): Offer | undefined {
  if (json === undefined) {
    return undefined
  }
  try {
    const parsed = offerSchema.safeParse(JSON.parse(json))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}
