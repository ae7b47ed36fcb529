/**
 * @module A loaded rule version compiled for the decision step: its predicate, its schedule as
 * epoch ms, and the stable audience and holdout assignment.
 */
import { createHash } from 'node:crypto'
import type { EventType } from '../../streams/events'
import {
  type CompiledTree,
  compileConditions,
  type Facts,
  type SlotRegistry,
} from '../../streams/rule-conditions'
import type { LoadedRule } from '../../streams/rules'

export type CompiledRule = {
  rule: LoadedRule
  id: string
  version: number
  priority: number
  trigger: EventType
  predicate: (facts: Facts) => boolean
  explain: ReturnType<typeof compileConditions>['explain']
  /** The compiled conditions, for the candidate index (rule-cache.ts). */
  tree: CompiledTree
  startsAt: number
  endsAt: number
  /**
   * Copies of what the decision step reads of every candidate rule on every event: the loaded
   * rules come in many shapes (optional fields), so reading them through `rule` is slow.
   */
  audiencePercent: number
  /** A schedule or a partial audience may refuse it before its conditions are looked at. */
  gated: boolean
  /** 0: none. */
  cooldown: number
  perShopper: { count: number; period: number } | undefined
}

/**
 * @example const compiled = compileRule(loaded); compiled.predicate(facts)
 */
export function compileRule(rule: LoadedRule, slots?: SlotRegistry): CompiledRule {
  const { predicate, explain, tree } = compileConditions(rule.conditions, slots)
  const startsAt = rule.schedule.start ? Date.parse(rule.schedule.start) : -Infinity
  const endsAt = rule.schedule.end ? Date.parse(rule.schedule.end) : Infinity
  return {
    rule,
    id: rule.id,
    version: rule.version,
    priority: rule.priority,
    trigger: rule.trigger.event,
    predicate,
    explain,
    tree,
    startsAt,
    endsAt,
    audiencePercent: rule.audiencePercent,
    gated: startsAt !== -Infinity || endsAt !== Infinity || rule.audiencePercent < 100,
    cooldown: rule.caps.cooldown ?? 0,
    perShopper: rule.caps.perShopper,
  }
}

/**
 * A stable bucket in [0, 100) for a shopper and a rule: the same anchor (the shopper's first
 * anonymous id, kept across login, see decide.ts) always lands in the same bucket, and
 * different rules and purposes get independent buckets.
 * @example bucket('anon-1', 'rul_1', 'holdout') < 10 // in a 10% holdout
 */
export function bucket(anchor: string, ruleId: string, purpose: 'audience' | 'holdout'): number {
  const digest = createHash('sha256').update(`${purpose}\0${ruleId}\0${anchor}`).digest()
  return (digest.readUInt32BE(0) / 2 ** 32) * 100
}

/** Sorts rules so the highest priority comes first; ties by id, so the order is stable. */
export function byPriority(a: CompiledRule, b: CompiledRule): number {
  return b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}
