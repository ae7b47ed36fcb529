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
 * One step of an event's walk over its rules, in priority order, as the decision step took it.
 * Replaying the steps gives the trace (see TraceBuilder).
 */
type Step =
  /** A result known when it happened; `why`: its conditions were evaluated and not met. */
  | { kind: 'result'; rule: CompiledRule; result: string; important: boolean; why: boolean }
  /** `rules[from]` up to (not including) `rules[to]`: skipped by the candidate index, not met. */
  | { kind: 'skipped'; rules: readonly CompiledRule[]; from: number; to: number }
  /**
   * A rule whose taking the shopper's past offers refuse, conditions unevaluated: listed with
   * the refusal if they pass (as when evaluated first), else not met.
   */
  | { kind: 'refused'; rule: CompiledRule; refusal: string }
  | { kind: 'count'; result: string; n: number }

/**
 * Builds one event's trace, lazily: with 1,000 rules most fail on every event, and most traces
 * are dropped (see decideOffers), so the walk is recorded as steps, and the trace (its list,
 * counts, reasons in words, and the conditions of rules left unevaluated) is made from them
 * only for traces kept. The steps replay into exactly the trace an eager walk would have made.
 */
export class TraceBuilder {
  decision: Trace['decision'] = 'none'
  offerId: string | undefined
  private readonly steps: Step[] = []

  constructor(
    private readonly event: StoredEvent,
    private readonly now: number,
    /** What the rules were evaluated on. */
    private readonly facts: Facts,
  ) {}

  /**
   * A rule's result: listed when `important` (its conditions passed) or among the first few,
   * else counted. `why`: the conditions were not met, and the first few listed say why.
   */
  note(rule: CompiledRule, result: string, important: boolean, why = false): void {
    this.steps.push({ kind: 'result', rule, result, important, why })
  }

  /** Rules the candidate index skipped, `rules[from]` up to (not including) `rules[to]`. */
  skipped(rules: readonly CompiledRule[], from: number, to: number): void {
    if (to > from) {
      this.steps.push({ kind: 'skipped', rules, from, to })
    }
  }

  /** A rule that would be refused with `refusal` if its conditions, left unevaluated, pass. */
  refused(rule: CompiledRule, refusal: string): void {
    this.steps.push({ kind: 'refused', rule, refusal })
  }

  count(result: string, n: number): void {
    if (n > 0) {
      this.steps.push({ kind: 'count', result, n })
    }
  }

  toTrace(): Trace {
    const rules: CompiledRule[] = []
    const results: string[] = []
    const explain: boolean[] = []
    let explained = 0
    let notMet = 0
    let others: Record<string, number> | undefined
    const count = (result: string, n: number) => {
      if (result === NOT_MET) {
        notMet += n
      } else {
        others ??= {}
        others[result] = (others[result] ?? 0) + n
      }
    }
    // Every rule whose conditions passed is listed, and the others while fewer than 10 are;
    // the first 5 of those not met get their reasons in words.
    const note = (rule: CompiledRule, result: string, important: boolean, why: boolean) => {
      if (important || rules.length < TRACE.listed) {
        rules.push(rule)
        results.push(result)
        explain.push(why && explained++ < TRACE.explained)
      } else {
        count(result, 1)
      }
    }
    for (const step of this.steps) {
      switch (step.kind) {
        case 'result':
          note(step.rule, step.result, step.important, step.why)
          break
        case 'skipped': {
          let i = step.from
          for (; i < step.to && rules.length < TRACE.listed; i++) {
            note(step.rules[i] as CompiledRule, NOT_MET, false, true)
          }
          if (step.to > i) {
            count(NOT_MET, step.to - i)
          }
          break
        }
        case 'refused':
          if (step.rule.predicate(this.facts)) {
            note(step.rule, step.refusal, true, false)
          } else {
            note(step.rule, NOT_MET, false, true)
          }
          break
        case 'count':
          count(step.result, step.n)
          break
      }
    }
    const trace: Trace = {
      at: this.now,
      eventId: this.event.id,
      type: this.event.type,
      decision: this.decision,
      rules: rules.map((rule, i) => {
        const entry: RuleResult = {
          ruleId: rule.id,
          version: rule.version,
          name: rule.rule.name,
          result: results[i] as string,
        }
        if (explain[i]) {
          entry.why = rule.explain(this.facts).lines
        }
        return entry
      }),
    }
    if (this.offerId !== undefined) {
      trace.offerId = this.offerId
    }
    if (notMet > 0 || others) {
      trace.others = { ...(notMet > 0 && { [NOT_MET]: notMet }), ...others }
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
