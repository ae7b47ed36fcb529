/**
 * @module Decision traces: which rules an event's decision considered and why each passed or
 * failed, kept per shopper (newest first, capped, expiring) for the admin API's
 * GET /v1/admin/decisions/:shopper.
 */
import type { StoredEvent } from '../../streams/events'
import type { Facts } from '../../streams/rule-conditions'
import type { CompiledRule } from './compile'
import type { OfferDeps } from './deps'

/** Decision traces kept per shopper (newest first) and for how long. */
const TRACE = { keep: 20, ttlMs: 7 * 86_400_000, listed: 10, explained: 5 } as const

export type RuleResult = {
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

export const NOT_MET = 'conditions not met'

/**
 * Builds one event's trace, lazily: with 1,000 rules most fail on every event, and most traces
 * are dropped (see decideOffers), so noting a rule stores two references, a failure past the
 * listed few is one increment, and entries and reasons in words are made only for traces kept.
 */
export class TraceBuilder {
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

/** Writes a job's traces in one round trip (diagnostics: a trace lost to a crash is harmless). */
export async function recordTraces(
  deps: OfferDeps,
  traces: readonly [string, Trace][],
): Promise<void> {
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

export function recordTrace(deps: OfferDeps, profile: string, trace: Trace): Promise<void> {
  return recordTraces(deps, [[profile, trace]])
}
