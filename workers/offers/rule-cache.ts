/**
 * @module The workers' view of the active rules: compiled once, indexed by site and trigger
 * event type, and reloaded when the api announces a change on `rules:changed` (pub/sub, no
 * polling). A reload replaces the whole index at once, so a decision never sees half a change.
 *
 * Contract with the api: after committing any rule change it PUBLISHes the site id on
 * keys.rulesChanged(). A missed message (the subscriber was reconnecting) is covered by
 * reloading on every (re)subscribe.
 */
import type { Redis } from 'ioredis'
import type { Db } from '../../drizzle/client'
import { listActiveRuleVersions } from '../../drizzle/queries/rules'
import type { Logger } from '../../runtime/logger'
import type { EventType } from '../../streams/events'
import type { Keys } from '../../streams/keys'
import { PROFILE_HALF_LIFE_MS } from '../../streams/profile'
import type { SlotRegistry } from '../../streams/rule-conditions'
import { type CandidateIndex, createCandidateIndex } from '../../streams/rule-index'
import { type LoadedRule, ruleInput } from '../../streams/rules'
import { byPriority, type CompiledRule, compileRule } from './compile'

/** The rules of one site and trigger type, and which of them an event can pass. */
export type RuleList = {
  /** Highest priority first. */
  rules: CompiledRule[]
  /**
   * Positions in `rules` of the candidates for an event (streams/rule-index.ts): every other
   * rule provably fails its conditions. Rules with a schedule or a partial audience are always
   * candidates, so a skipped rule's result is exactly "conditions not met".
   */
  index: CandidateIndex
}

export type SiteRules = {
  timezone: string
  /** The site's half-life of score and interests (what the profile was written with). */
  halfLifeMs: number
  /** Immediate rules by trigger type. */
  immediate: Map<EventType, RuleList>
  /** Delayed rules by trigger type. */
  delayed: Map<EventType, RuleList>
  /** Event types that cancel some delayed rule. */
  unless: Set<EventType>
  byId: Map<string, CompiledRule>
}

export type RuleIndex = Map<string, SiteRules>

/** Builds the index from loaded rule versions (pure; the unit tests and the bench call it). */
export function indexRules(
  loaded: readonly (LoadedRule & { timezone: string; halfLifeMs?: number })[],
): RuleIndex {
  const index: RuleIndex = new Map()
  // One memo-slot registry per index: its rules share answers to the same questions.
  const slots: SlotRegistry = new Map()
  for (const rule of loaded) {
    let site = index.get(rule.siteId)
    if (!site) {
      site = {
        timezone: rule.timezone,
        halfLifeMs: rule.halfLifeMs ?? PROFILE_HALF_LIFE_MS,
        immediate: new Map(),
        delayed: new Map(),
        unless: new Set(),
        byId: new Map(),
      }
      index.set(rule.siteId, site)
    }
    const compiled = compileRule(rule, slots)
    const byTrigger = rule.trigger.delay === undefined ? site.immediate : site.delayed
    let list = byTrigger.get(compiled.trigger)
    if (!list) {
      // Indexed below, once the list is complete and sorted.
      list = { rules: [], index: createCandidateIndex([]) }
      byTrigger.set(compiled.trigger, list)
    }
    list.rules.push(compiled)
    site.byId.set(rule.id, compiled)
    if (rule.trigger.unless !== undefined) {
      site.unless.add(rule.trigger.unless)
    }
  }
  for (const site of index.values()) {
    for (const list of [...site.immediate.values(), ...site.delayed.values()]) {
      list.rules.sort(byPriority)
      list.index = createCandidateIndex(list.rules.map(indexable))
    }
  }
  return index
}

/**
 * What the candidate index may skip a rule on: its conditions, unless a schedule or a partial
 * audience could refuse it first (with another result in its trace than "conditions not met").
 */
function indexable(rule: CompiledRule) {
  return rule.gated ? undefined : rule.tree
}

export type RuleCache = {
  /** The current index; replaced whole on reload. */
  get(): RuleIndex
  /** Reloads now (also what a change message triggers). */
  reload(): Promise<void>
  close(): Promise<void>
}

/**
 * Loads the active rules, then keeps them current.
 * @example const cache = await startRuleCache({ db, keys, subscriber, logger }); cache.get()
 */
export async function startRuleCache(deps: {
  db: Db
  keys: Keys
  /** A connection of its own: once subscribed it can run nothing else. */
  subscriber?: Redis
  logger: Logger
}): Promise<RuleCache> {
  let index: RuleIndex = new Map()
  let loading: Promise<void> | undefined
  let again = false

  async function load(): Promise<void> {
    const rows = await listActiveRuleVersions(deps.db)
    const loaded: (LoadedRule & { timezone: string; halfLifeMs?: number })[] = []
    for (const row of rows) {
      const spec = ruleInput.safeParse(row.spec)
      if (!spec.success) {
        // Stored specs were validated on the way in; one that no longer parses (a model change
        // without a data migration) is skipped loudly rather than stopping every other rule.
        deps.logger.error({ ruleId: row.id, version: row.version }, 'stored rule does not parse')
        continue
      }
      loaded.push({
        ...spec.data,
        id: row.id,
        siteId: row.siteId,
        version: row.version,
        status: 'active',
        timezone: row.timezone,
        ...(row.halfLifeHours && { halfLifeMs: row.halfLifeHours * 3_600_000 }),
      })
    }
    index = indexRules(loaded)
    deps.logger.debug({ rules: loaded.length }, 'rules loaded')
  }

  /** Coalesces reloads: at most one running and one queued behind it. */
  function reload(): Promise<void> {
    if (loading) {
      again = true
      return loading
    }
    loading = (async () => {
      try {
        do {
          again = false
          await load()
        } while (again)
      } finally {
        loading = undefined
      }
    })()
    return loading
  }

  let closed = false
  let retry: NodeJS.Timeout | undefined
  /** Reloads; on failure (PostgreSQL away) tries again every 5 s until one succeeds. */
  const reloadOrRetry = () => {
    reload().catch((err) => {
      deps.logger.error({ err }, 'rule reload failed; retrying in 5 s')
      if (!closed && !retry) {
        retry = setTimeout(() => {
          retry = undefined
          reloadOrRetry()
        }, 5_000)
        retry.unref()
      }
    })
  }
  const subscriber = deps.subscriber
  if (subscriber) {
    const channel = deps.keys.rulesChanged()
    subscriber.on('message', (from) => {
      if (from === channel) {
        reloadOrRetry()
      }
    })
    // ioredis re-subscribes after a reconnect; messages sent meanwhile are lost, so reload.
    subscriber.on('ready', reloadOrRetry)
    await subscriber.subscribe(channel)
  }
  await reload()
  return {
    get: () => index,
    reload,
    async close() {
      closed = true
      clearTimeout(retry)
      await loading?.catch(() => {})
      subscriber?.disconnect()
    },
  }
}
