/**
 * @module Every Redis key, stream, channel and consumer-group name Nudge uses.
 *
 * DO NOT RENAME ANYTHING HERE. Keys are data: a renamed stream or group strands every entry
 * written under the old name, and a renamed dedup set lets retried events count twice. Add
 * new names; migrate old ones deliberately.
 *
 * Hash tags (`{…}`) put each partition's keys in one Redis Cluster slot, so a Lua script may
 * touch the stream and its dedup sets together.
 */

/** Key builders bound to one prefix (configurable per install and unique per test). */
export type Keys = ReturnType<typeof createKeys>

/**
 * @example const keys = createKeys('nudge:'); keys.events(3) // 'nudge:events:{3}'
 */
export function createKeys(prefix: string) {
  return {
    prefix,
    /** The event log partition p (0..P-1). */
    events: (partition: number) => `${prefix}events:{${partition}}`,
    /**
     * The pump's records of partition p's entries of one hour (by entry id time): entry id →
     * the job of several entries meant to hold it, or '+' once its job is added. Deleted once
     * the entries are acknowledged; each hour's hash expires a day after the hour regardless
     * (workers/pump.ts).
     */
    pumpJobs: (partition: number, hour: number) => `${prefix}events:{${partition}}:jobs:${hour}`,
    /** The oldest entry id any consumer group of partition p still needs (trim never passes it). */
    trimFloor: (partition: number) => `${prefix}events:{${partition}}:floor`,
    /** Entries a consumer group gave up on after N attempts, per source stream. */
    deadLetter: (stream: string) => `${stream}:dead`,
    /** Ids seen by ingest in one dedup time bucket of partition p (same slot as the stream). */
    seen: (partition: number, bucket: number) => `${prefix}seen:{${partition}}:${bucket}`,
    /** Token buckets of one site: the site-wide one and one per client IP, in one slot. */
    rateSite: (siteId: string) => `${prefix}rate:{${siteId}}`,
    rateIp: (siteId: string, ip: string) => `${prefix}rate:{${siteId}}:ip:${ip}`,

    // One shopper's live state: every key of a profile shares the profile's hash tag, so one
    // Lua script can update all of them atomically (workers/scripts/apply-events-7.lua).
    /** Hash: score (+ score@, its reference time), n, n:<type>, first, last, purchases. */
    profile: (profileKey: string) => `${prefix}profile:{${profileKey}}`,
    /** Sorted set: ids of events already applied → receivedAt (the exactly-once marker). */
    profileApplied: (profileKey: string) => `${prefix}profile:{${profileKey}}:applied`,
    /** Sorted set: recent events (JSON) by event time, capped. */
    profileRecent: (profileKey: string) => `${prefix}profile:{${profileKey}}:recent`,
    /** Sorted set: items bought → time of the last purchase. */
    profileBought: (profileKey: string) => `${prefix}profile:{${profileKey}}:bought`,
    /** Hash: category → decayed interest, category@ → its reference time. */
    profileInterests: (profileKey: string) => `${prefix}profile:{${profileKey}}:interests`,
    /** Set: profiles changed since the last snapshot to PostgreSQL. */
    profilesDirty: () => `${prefix}profiles:dirty`,
    /**
     * Sorted set: a site's profile keys → when their latest event was received, the newest
     * SHOPPERS_KEPT (workers/processors/profile.ts). The console's preview reads the most
     * recently active shoppers here instead of scanning the keyspace.
     */
    siteShoppers: (siteId: string) => `${prefix}shoppers:{${siteId}}`,
    /**
     * String, set once every profile written before `siteShoppers` existed has been added to
     * it (workers/repeatables/backfill-shoppers.ts): from then on the index alone is complete.
     */
    shoppersBackfilled: () => `${prefix}shoppers:backfilled`,
    /** Set: profile keys already merged into this one (a merge happens once). */
    profileMerged: (profileKey: string) => `${prefix}profile:{${profileKey}}:merged`,
    /** Sorted set: personal recommendations, item → score, capped (streams/recommendations.ts). */
    profileRecs: (profileKey: string) => `${prefix}profile:{${profileKey}}:recs`,
    /** Stream: offers decided for the shopper, capped and expiring (streams/offers.ts INBOX). */
    inbox: (profileKey: string) => `${prefix}profile:{${profileKey}}:inbox`,
    /** Sorted set: offer ids the shopper acknowledged → ack time; never replayed (streams/inbox.ts). */
    inboxAcks: (profileKey: string) => `${prefix}profile:{${profileKey}}:inbox:acks`,
    /**
     * Pub/sub channel carrying each new inbox offer to the gateways. Same hash tag as the
     * profile, so the decision script can publish it (SPUBLISH on Redis Cluster).
     */
    live: (profileKey: string) => `${prefix}live:{${profileKey}}`,
    /** Sorted set: decision keys already decided → time (offers are exactly-once). */
    profileDecided: (profileKey: string) => `${prefix}profile:{${profileKey}}:decided`,
    /** Sorted set: "offerId|ruleId|version|kind|decisionKey" → decided at, capped. */
    profileOffers: (profileKey: string) => `${prefix}profile:{${profileKey}}:offers`,
    /** Sorted set: one rule's offers to the shopper within the rule's cap period. */
    profileCaps: (profileKey: string, ruleId: string) =>
      `${prefix}profile:{${profileKey}}:caps:${ruleId}`,
    /** String: the id audience and holdout buckets hash (kept across login). */
    profileAnchor: (profileKey: string) => `${prefix}profile:{${profileKey}}:anchor`,
    /** List: the latest decision traces (JSON), newest first, capped. */
    profileDecisions: (profileKey: string) => `${prefix}profile:{${profileKey}}:decisions`,
    /** Hash: delayed-trigger job id → its "unless" event type, for cancelling. */
    profileDelayed: (profileKey: string) => `${prefix}profile:{${profileKey}}:delayed`,
    /** Hash: a rule's total budget taken (workers/scripts/budget-1.lua). */
    ruleBudget: (ruleId: string) => `${prefix}budget:{${ruleId}}`,
    /** Pub/sub channel: a site's rules changed; workers reload (message = site id). */
    rulesChanged: () => `${prefix}rules:changed`,
    /**
     * Sorted sets of failed staff sign-ins → time, per email (its SHA-256, 32 hex: no addresses
     * in Redis), per email and client address, and per client address, in one slot
     * (api/admin/login-limit.ts).
     */
    loginEmail: (emailHash: string) => `${prefix}login:{attempts}:email:${emailHash}`,
    loginEmailFrom: (emailHash: string, address: string) =>
      `${prefix}login:{attempts}:email:${emailHash}:from:${address}`,
    loginIp: (ip: string) => `${prefix}login:{attempts}:ip:${ip}`,

    // Recommendations of one site. Item-level sets live in the item's own slot.
    /** Sorted set: neighbours of an item → co-occurrence weight, top-N. */
    recNeighbours: (siteId: string, itemId: string) => `${prefix}rec:{${siteId}:${itemId}}:co`,
    /** Hash: per-item totals used to normalise co-occurrence (n = interaction weight). */
    recItem: (siteId: string, itemId: string) => `${prefix}rec:{${siteId}:${itemId}}:item`,
    /** Sorted set: decayed popularity of items, all or per category, with its epoch hash. */
    recTrending: (siteId: string, category?: string) =>
      category === undefined
        ? `${prefix}rec:{${siteId}}:trending`
        : `${prefix}rec:{${siteId}}:trending:cat:${category}`,
    /** Hash: trending set (`all`, `cat:<category>`) → its epoch, in the trending sets' slot. */
    recTrendingEpochs: (siteId: string) => `${prefix}rec:{${siteId}}:trending-epochs`,
    /** Hash: category → item count, per site (which trending-by-category sets exist). */
    recCategories: (siteId: string) => `${prefix}rec:{${siteId}}:categories`,
  }
}

/** BullMQ's key prefix under an install's prefix, so tests and installs never share queues. */
export function bullPrefix(prefix: string): string {
  return `${prefix}bull`
}

/** Consumer-group names. Renaming one makes its consumers start over from the group's start. */
export const GROUPS = {
  /** The pump that moves events from the log into the processing queue. */
  pipeline: 'pipeline',
} as const

/** BullMQ queue names. Renaming one strands the jobs waiting in the old queue. */
export const QUEUES = {
  /** Slices of the event log on their way to the processors. */
  events: 'events',
  /** Periodic work: trending decay, snapshots, trimming. */
  maintenance: 'maintenance',
  /** Delayed triggers of offer rules, due when their delay ends. */
  delayedOffers: 'delayed-offers',
} as const
