/**
 * @module A decision rig for offer tests: the api harness's site, Redis prefix and schema, the
 * events pipeline with the offers step, and helpers to store rules, run events through the
 * pipeline as a job would, and read a shopper's inbox.
 */
import { onTestFinished } from 'vitest'
import { createRule, type RuleStatus } from '../drizzle/queries/rules'
import { createLogger } from '../runtime/logger'
import { createRedis, waitReady } from '../runtime/redis'
import type { StoredEvent } from '../streams/events'
import { createKeys } from '../streams/keys'
import { type Offer, offer } from '../streams/offers'
import { type RuleInput, ruleInput } from '../streams/rules'
import { createEventsPipeline } from '../workers/main'
import type { OfferDeps } from '../workers/offers/deps'
import { startRuleCache } from '../workers/offers/rule-cache'
import { profileOf } from '../workers/processors/profile'
import { testApi } from './harness'
import { TEST_REDIS_URL } from './redis'

let seq = 0

export async function offersRig(env: Record<string, string> = {}) {
  const t = await testApi(env)
  const keys = createKeys(t.prefix)
  const redis = createRedis(TEST_REDIS_URL, { commandTimeoutMs: 5_000 })
  onTestFinished(() => redis.disconnect())
  await waitReady(redis, 5_000)
  const logger = createLogger({ level: 'silent', role: 'workers' })
  const rules = await startRuleCache({ db: t.db, keys, logger })
  const deps: OfferDeps = {
    redis,
    keys,
    rules: rules.get,
    profileOf,
    attributionMs: t.config.NUDGE_ATTRIBUTION_WINDOW,
    profileTtlMs: t.config.NUDGE_PROFILE_TTL,
    maxEventAgeMs: t.config.NUDGE_OFFER_MAX_AGE,
  }
  const processJob = createEventsPipeline({
    config: t.config,
    redis,
    keys,
    offers: { deps, db: t.db },
  })
  const siteId = t.site.site.id

  return {
    ...t,
    keys,
    deps,
    rules,
    siteId,
    /** Stores a rule (validated like the admin API does) and reloads the cache. */
    async addRule(input: RuleInput, status: RuleStatus = 'active') {
      const spec = ruleInput.parse(input)
      const stored = await createRule(t.db, { siteId, spec, status, actor: 'test' })
      await rules.reload()
      return stored
    },
    /** A stored event of this site, as the api would stamp it. */
    event(over: Partial<StoredEvent> & { type: StoredEvent['type'] }): StoredEvent {
      seq += 1
      const now = Date.now()
      return {
        id: `ev-${process.pid}-${now}-${seq}`,
        v: 1,
        anonymousId: 'anon-1',
        ts: now,
        receivedAt: now,
        siteId,
        verified: false,
        props: {},
        ...over,
      } as StoredEvent
    },
    /** Runs events through the pipeline as one job. */
    async run(events: StoredEvent[], replay = false) {
      seq += 1
      return processJob({ partition: 0, entryId: `${seq}-0`, events, ...(replay && { replay }) })
    },
    async inbox(profile: string): Promise<Offer[]> {
      const entries = await redis.xrange(keys.inbox(profile), '-', '+')
      return entries.map(([, fields]) => offer.parse(JSON.parse(fields[1] as string)))
    },
    profileKey: (who: { anonymousId?: string; userId?: string }) =>
      who.userId !== undefined ? `${siteId}:u:${who.userId}` : `${siteId}:a:${who.anonymousId}`,
  }
}
