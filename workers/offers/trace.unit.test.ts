/**
 * The trace builder records the walk and makes the trace only when it is kept: replaying must
 * give exactly the trace of an eager walk that evaluated every rule, here the builder as it was
 * before rules could be skipped or left unevaluated.
 */
import { describe, expect, it } from 'vitest'
import type { StoredEvent } from '../../streams/events'
import type { Facts, SlotRegistry } from '../../streams/rule-conditions'
import { ruleInput } from '../../streams/rules'
import { type CompiledRule, compileRule } from './compile'
import { NOT_MET, type RuleResult, type Trace, TraceBuilder } from './trace'

/** The eager builder: every rule evaluated and noted in order. */
class EagerTrace {
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

  note(rule: CompiledRule, result: string, important: boolean, facts?: Facts): void {
    if (important || this.rules.length < 10) {
      this.rules.push(rule)
      this.results.push(result)
      this.explain.push(facts && this.explained++ < 5 ? facts : undefined)
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

function random(seed: number) {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Rule i passes when the event's property `p<i>` is true (one memo, as in a rule index). */
const slots: SlotRegistry = new Map()
const RULES = Array.from({ length: 60 }, (_, i) =>
  compileRule(
    {
      ...ruleInput.parse({
        name: `Rule ${i}`,
        trigger: { event: 'ProductViewed' },
        conditions: {
          kind: 'all',
          conditions: [
            { kind: 'event', field: `p${i}`, op: 'eq', value: true },
            { kind: 'event', field: 'price', op: 'gt', value: i },
          ],
        },
        offer: { title: 'T', cta: { label: 'Go', url: 'https://shop.example/' } },
      }),
      id: `rul_${String(i).padStart(2, '0')}`,
      siteId: 'sit_1',
      version: 1,
      status: 'active',
    },
    slots,
  ),
)

const REFUSALS = [
  'shopper is in this rule’s cooldown after an earlier offer',
  'per-shopper cap reached',
]

describe('trace builder', () => {
  it('replays into exactly the trace of an eager walk', () => {
    const next = random(7)
    for (let round = 0; round < 500; round++) {
      const n = Math.floor(next() * RULES.length)
      const rules = RULES.slice(0, n)
      const props: Record<string, unknown> = { price: 1000 }
      const event = {
        id: `e${round}`,
        type: 'ProductViewed',
        ts: 1,
        props,
      } as unknown as StoredEvent
      const facts: Facts = {
        event,
        profile: { engagement: 0, purchases: 0, counts: {}, interest: () => 0 },
        recent: [],
        timezone: 'UTC',
        memo: [],
      }
      const lazy = new TraceBuilder(event, 5, facts)
      const eager = new EagerTrace(event, 5)
      let i = 0
      while (i < n) {
        const roll = next()
        const rule = rules[i] as CompiledRule
        if (roll < 0.3) {
          // A run of rules the index skipped: they fail their conditions.
          const to = Math.min(n, i + 1 + Math.floor(next() * 15))
          lazy.skipped(rules, i, to)
          for (; i < to; i++) {
            eager.note(rules[i] as CompiledRule, NOT_MET, false, facts)
          }
          continue
        }
        const passes = next() < 0.5
        props[`p${i}`] = passes
        if (roll < 0.55) {
          const refusal = REFUSALS[Math.floor(next() * 2)] as string
          lazy.refused(rule, refusal)
          eager.note(rule, passes ? refusal : NOT_MET, passes, passes ? undefined : facts)
        } else if (roll < 0.65) {
          const result = next() < 0.5 ? 'outside its schedule' : 'shopper not in its audience'
          lazy.note(rule, result, false)
          eager.note(rule, result, false)
        } else if (!passes) {
          lazy.note(rule, NOT_MET, false, true)
          eager.note(rule, NOT_MET, false, facts)
        } else if (roll < 0.95) {
          lazy.note(rule, 'budget spent', true)
          eager.note(rule, 'budget spent', true)
        } else {
          lazy.note(rule, 'won: offer sent', true)
          eager.note(rule, 'won: offer sent', true)
          for (const b of [lazy, eager]) {
            b.decision = 'offer'
            b.offerId = `ofr_${round}`
            b.count('not considered: a higher-priority rule won', n - i - 1)
          }
          break
        }
        i++
      }
      expect(lazy.toTrace()).toEqual(eager.toTrace())
    }
  })

  it('lists a skipped rule among the first ten with its reasons, and counts the rest', () => {
    const event = { id: 'e', type: 'ProductViewed', ts: 1, props: { price: 0 } }
    const facts = {
      event,
      profile: { engagement: 0, purchases: 0, counts: {}, interest: () => 0 },
      recent: [],
      timezone: 'UTC',
      memo: [],
    } as unknown as Facts
    const builder = new TraceBuilder(event as unknown as StoredEvent, 5, facts)
    builder.skipped(RULES, 0, RULES.length)
    const trace = builder.toTrace()
    expect(trace.rules).toHaveLength(10)
    expect(trace.rules.filter((r) => r.why)).toHaveLength(5)
    expect(trace.rules[0]?.why?.join('\n')).toContain('✗ event p0 is true (was nothing)')
    expect(trace.others).toEqual({ [NOT_MET]: RULES.length - 10 })
  })
})
