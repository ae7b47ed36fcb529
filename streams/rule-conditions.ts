/**
 * @module Rule conditions compiled into predicates. A rule is compiled once when the rule
 * cache loads it; evaluating it on an event is then a few closure calls over facts already in
 * memory (no I/O, no allocation on the fast path).
 *
 * `explain` runs the same predicates and also says, in a marketer's words, why each condition
 * passed or failed: the decision trace and the admin preview show those lines.
 */

import type { StoredEvent } from './events'
import { localTime } from './local-time'
import type { RecentEvent } from './profile'
import type { Condition, LeafCondition, Operator } from './rules'

/** "New vs returning": first seen more than this before the event. */
export const RETURNING_AFTER_MS = 30 * 60_000

/** What a rule is evaluated against: the triggering event and the shopper's live profile. */
export type Facts = {
  event: StoredEvent
  profile: {
    engagement: number
    purchases: number
    /** Events applied, all types (`n`) and per type (`n:<type>`). */
    counts: Record<string, number>
    first?: number
    last?: number
    /** The decayed interest in a category (any case), 0 when none. */
    interest: (category: string) => number
  }
  /**
   * The recent-event list, oldest first. It may hold events later than the triggering one
   * (the rest of its job): windows end at the event's time, so they are never counted.
   */
  recent: RecentEvent[]
  /** The site's IANA time zone. */
  timezone: string
  /**
   * Per-event memo of fact values, by slot (see `slotOf`): many rules ask the same question
   * ("clicks on shoes in the last 10 minutes"), and with 1,000 rules answering it once per
   * event instead of once per rule is most of the evaluation cost. Make a fresh [] per event.
   */
  memo?: unknown[]
}

export type Predicate = (facts: Facts) => boolean
type Explained = { passed: boolean; lines: string[] }

/**
 * What `eq`, `ne` and `in` compare: text without case, and numbers as their text, so a product
 * id stored as "123" equals a condition value typed as 123 (and the other way round).
 * @example norm('Shoes') === norm('SHOES') && norm(123) === norm('123')
 */
export function norm(value: unknown): unknown {
  return typeof value === 'string'
    ? value.toLowerCase()
    : typeof value === 'number'
      ? String(value)
      : value
}

/**
 * A number, or numeric text ("250" from a client that sends prices as strings); NaN otherwise,
 * which no comparison passes.
 * @example asNumber('250') // 250
 */
export function asNumber(value: unknown): number {
  if (typeof value === 'number') {
    return value
  }
  return typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN
}

/** Compares an actual value with a condition's value; text without case. */
export function compare(actual: unknown, op: Operator, expected: unknown): boolean {
  if (op === 'exists') {
    return actual !== undefined && actual !== null && actual !== ''
  }
  if (actual === undefined || actual === null) {
    return op === 'ne'
  }
  switch (op) {
    case 'eq':
      return norm(actual) === norm(expected)
    case 'ne':
      return norm(actual) !== norm(expected)
    case 'gt':
      return typeof expected === 'number' && asNumber(actual) > expected
    case 'gte':
      return typeof expected === 'number' && asNumber(actual) >= expected
    case 'lt':
      return typeof expected === 'number' && asNumber(actual) < expected
    case 'lte':
      return typeof expected === 'number' && asNumber(actual) <= expected
    case 'in':
      return Array.isArray(expected) && expected.some((e) => norm(e) === norm(actual))
    case 'contains':
      return (
        typeof actual === 'string' &&
        typeof expected === 'string' &&
        actual.toLowerCase().includes(expected.toLowerCase())
      )
    case 'startsWith':
      return (
        typeof actual === 'string' &&
        typeof expected === 'string' &&
        actual.toLowerCase().startsWith(expected.toLowerCase())
      )
  }
}

/**
 * `compare` specialised once per condition: the operator is chosen and the expected text
 * lowercased at compile time, so evaluating a rule does no string work for its own side.
 * Same results as `compare` (the unit tests check both).
 */
export function tester(op: Operator, expected: unknown): (actual: unknown) => boolean {
  const lower = norm(expected)
  const num = typeof expected === 'number' ? expected : Number.NaN
  switch (op) {
    case 'exists':
      return (a) => a !== undefined && a !== null && a !== ''
    case 'eq':
      return (a) => a !== undefined && a !== null && (a === expected || norm(a) === lower)
    case 'ne':
      return (a) => a === undefined || a === null || (a !== expected && norm(a) !== lower)
    case 'gt':
      return (a) => asNumber(a) > num
    case 'gte':
      return (a) => asNumber(a) >= num
    case 'lt':
      return (a) => asNumber(a) < num
    case 'lte':
      return (a) => asNumber(a) <= num
    default:
      return (a) => compare(a, op, expected)
  }
}

function eventField(event: StoredEvent, path: string): unknown {
  let value: unknown = event.props
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') {
      return undefined
    }
    value = (value as Record<string, unknown>)[part]
  }
  return value
}

function pathOf(url: string | undefined): string | undefined {
  if (url === undefined) {
    return undefined
  }
  try {
    return new URL(url).pathname
  } catch {
    return url.startsWith('/') ? url : undefined
  }
}

/**
 * A `*` glob as a matcher over lowercased text: `*` is any text, everything else literal. It
 * runs in linear time (first and last pieces anchored, the middle ones found in order): a
 * regular expression with several `.*` backtracks exponentially on a long path, and paths
 * come from shoppers.
 * @example globMatcher('/products/*')('/products/boots') // true
 */
export function globMatcher(pattern: string): (text: string) => boolean {
  const pieces = pattern.toLowerCase().split('*')
  const first = pieces[0] as string
  const last = pieces.at(-1) as string
  if (pieces.length === 1) {
    return (text) => text === first
  }
  const middle = pieces.slice(1, -1)
  return (text) => {
    if (
      text.length < first.length + last.length ||
      !text.startsWith(first) ||
      !text.endsWith(last)
    ) {
      return false
    }
    let at = first.length
    const end = text.length - last.length
    for (const piece of middle) {
      const found = text.indexOf(piece, at)
      if (found < 0 || found + piece.length > end) {
        return false
      }
      at = found + piece.length
    }
    return true
  }
}

function fmtDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) {
      return `${ms / size}${unit}`
    }
  }
  return `${ms}ms`
}

function fmt(op: Operator, value: unknown): string {
  const words: Record<Operator, string> = {
    eq: 'is',
    ne: 'is not',
    gt: 'is more than',
    gte: 'is at least',
    lt: 'is less than',
    lte: 'is at most',
    in: 'is one of',
    contains: 'contains',
    startsWith: 'starts with',
    exists: 'is set',
  }
  return op === 'exists' ? words.exists : `${words[op]} ${JSON.stringify(value)}`
}

/**
 * What a leaf's value depends on (not its operator or threshold): leaves with equal keys share
 * one memo slot.
 */
function factKey(c: LeafCondition): string {
  switch (c.kind) {
    case 'event':
      return `event:${c.field}`
    case 'profile':
      return `profile:${c.fact}:${c.category?.toLowerCase() ?? ''}:${c.eventType ?? ''}`
    case 'count':
      return `count:${c.event}:${JSON.stringify(c.where)}:${c.within}`
    case 'page':
      return 'page'
    case 'time':
      return 'time'
  }
}

/**
 * Fact key → memo slot, shared by the rules compiled together (one rule index, one preview):
 * they agree on slots, and the registry goes away with them, so user-written values in keys
 * never pile up in a long-lived map.
 */
export type SlotRegistry = Map<string, number>

const MISSING = Symbol('missing')

function slotOf(slots: SlotRegistry, key: string): number {
  let slot = slots.get(key)
  if (slot === undefined) {
    slot = slots.size
    slots.set(key, slot)
  }
  return slot
}

/** A leaf as value getter, test and description: predicates and explanations both use it. */
function leafParts(c: LeafCondition): {
  actual: (f: Facts) => unknown
  test: (actual: unknown) => boolean
  text: string
} {
  switch (c.kind) {
    case 'event':
      return {
        actual: (f) => eventField(f.event, c.field),
        test: tester(c.op, c.value),
        text: `event ${c.field} ${fmt(c.op, c.value)}`,
      }
    case 'profile': {
      const text = `${c.fact}${c.category ? ` in ${c.category}` : ''}${c.eventType ? ` of ${c.eventType}` : ''} ${fmt(c.op, c.value)}`
      const actual = (f: Facts): unknown => {
        const p = f.profile
        switch (c.fact) {
          case 'engagement':
            return p.engagement
          case 'purchases':
            return p.purchases
          case 'events':
            return p.counts[c.eventType === undefined ? 'n' : `n:${c.eventType}`] ?? 0
          case 'interest':
            return p.interest(c.category ?? '')
          case 'daysSinceFirstSeen':
            return p.first === undefined ? 0 : (f.event.ts - p.first) / 86_400_000
          case 'minutesSinceLastSeen':
            return p.last === undefined ? undefined : (f.event.ts - p.last) / 60_000
          case 'returning':
            return p.first !== undefined && f.event.ts - p.first > RETURNING_AFTER_MS
        }
      }
      return { actual, test: tester(c.op, c.value), text }
    }
    case 'count': {
      const where = c.where.map((w) => ({ ...w, test: tester(w.op, w.value) }))
      const within = c.within === 'today' ? 'today' : `in the last ${fmtDuration(c.within)}`
      const filter = where.length
        ? ` where ${where.map((w) => `${w.field} ${fmt(w.op, w.value)}`).join(' and ')}`
        : ''
      return {
        actual: (f) => {
          const to = f.event.ts
          const from =
            c.within === 'today' ? localTime(to, f.timezone).midnight : to - (c.within as number)
          let n = 0
          recent: for (const r of f.recent) {
            if (r.type !== c.event || r.ts < from || r.ts > to) {
              continue
            }
            for (const w of where) {
              if (!w.test(r[w.field])) {
                continue recent
              }
            }
            n++
          }
          return n
        },
        test: tester(c.op, c.value),
        text: `${c.event} events${filter} ${within} ${fmt(c.op, c.value)}`,
      }
    }
    case 'page': {
      const glob = c.op === 'matches' ? globMatcher(c.value) : undefined
      const value = c.value.toLowerCase()
      return {
        actual: (f) => pathOf(f.event.context?.url),
        test: (a) => {
          if (typeof a !== 'string') {
            return false
          }
          const path = a.toLowerCase()
          switch (c.op) {
            case 'eq':
              return path === value
            case 'startsWith':
              return path.startsWith(value)
            case 'contains':
              return path.includes(value)
            case 'matches':
              return glob?.(path) ?? false
          }
        },
        text: `page ${c.op === 'matches' ? 'matches' : fmt(c.op, c.value)}${c.op === 'matches' ? ` ${JSON.stringify(c.value)}` : ''}`,
      }
    }
    case 'time': {
      const days = c.days && new Set<string>(c.days)
      const hours = c.hours
      const parts: string[] = []
      if (hours) {
        parts.push(`between ${hours.from}:00 and ${hours.to}:00`)
      }
      if (c.days) {
        parts.push(`on ${c.days.join(', ')}`)
      }
      return {
        actual: (f) => localTime(f.event.ts, f.timezone),
        test: (a) => {
          const t = a as { hour: number; day: string }
          if (days && !days.has(t.day)) {
            return false
          }
          if (hours) {
            return hours.from <= hours.to
              ? t.hour >= hours.from && t.hour < hours.to
              : t.hour >= hours.from || t.hour < hours.to
          }
          return true
        },
        text: `time ${parts.join(' ')}`,
      }
    }
  }
}

function describeActual(actual: unknown): string {
  if (actual !== null && typeof actual === 'object' && 'hour' in actual) {
    const t = actual as { hour: number; day: string }
    return `${t.day} ${t.hour}:00`
  }
  if (typeof actual === 'number') {
    return String(Math.round(actual * 100) / 100)
  }
  return actual === undefined ? 'nothing' : JSON.stringify(actual)
}

/**
 * A compiled condition as the rule index (rule-index.ts) reads it: the groups, and each leaf
 * with its memoised fact and its test, the very functions the predicate calls.
 */
export type CompiledTree =
  | {
      kind: 'leaf'
      leaf: LeafCondition
      /** What its value depends on: leaves with the same fact read the same value. */
      fact: string
      actual: (f: Facts) => unknown
      test: (actual: unknown) => boolean
    }
  | { kind: 'all' | 'any'; items: CompiledTree[] }
  | { kind: 'not'; item: CompiledTree }

type Compiled = {
  predicate: Predicate
  explain: (f: Facts, depth: number) => Explained
  tree: CompiledTree
}

function compileNode(c: Condition, slots: SlotRegistry): Compiled {
  if (c.kind === 'all' || c.kind === 'any') {
    const isAll = c.kind === 'all'
    const items = c.conditions.map((item) => compileNode(item, slots))
    const predicates = items.map((i) => i.predicate)
    // Plain loops: every()/some() with a callback allocate a closure per group and evaluation,
    // garbage that hundreds of rules per event make worth avoiding.
    return {
      predicate: isAll
        ? (f) => {
            for (const p of predicates) {
              if (!p(f)) {
                return false
              }
            }
            return true
          }
        : (f) => {
            for (const p of predicates) {
              if (p(f)) {
                return true
              }
            }
            return predicates.length === 0
          },
      explain: (f, depth) => {
        const children = items.map((i) => i.explain(f, depth + 1))
        const passed = isAll
          ? children.every((x) => x.passed)
          : children.length === 0 || children.some((x) => x.passed)
        const head =
          depth === 0 && isAll
            ? []
            : [`${'  '.repeat(depth)}${passed ? '✓' : '✗'} ${isAll ? 'all of' : 'any of'}:`]
        return { passed, lines: [...head, ...children.flatMap((x) => x.lines)] }
      },
      tree: { kind: c.kind, items: items.map((i) => i.tree) },
    }
  }
  if (c.kind === 'not') {
    const inner = compileNode(c.condition, slots)
    return {
      predicate: (f) => !inner.predicate(f),
      explain: (f, depth) => {
        const x = inner.explain(f, depth + 1)
        return {
          passed: !x.passed,
          lines: [`${'  '.repeat(depth)}${x.passed ? '✗' : '✓'} none of:`, ...x.lines],
        }
      },
      tree: { kind: 'not', item: inner.tree },
    }
  }
  const leaf = c as LeafCondition
  const parts = leafParts(leaf)
  const { test, text } = parts
  const fact = factKey(leaf)
  const slot = slotOf(slots, fact)
  const compute = parts.actual
  const actual = (f: Facts): unknown => {
    const memo = f.memo
    if (!memo) {
      return compute(f)
    }
    const known = memo[slot]
    if (known !== undefined) {
      return known === MISSING ? undefined : known
    }
    const value = compute(f)
    memo[slot] = value === undefined ? MISSING : value
    return value
  }
  return {
    predicate: (f) => test(actual(f)),
    explain: (f, depth) => {
      const a = actual(f)
      const passed = test(a)
      return {
        passed,
        lines: [`${'  '.repeat(depth)}${passed ? '✓' : '✗'} ${text} (was ${describeActual(a)})`],
      }
    },
    tree: { kind: 'leaf', leaf, fact, actual, test },
  }
}

/**
 * Compiles a rule's conditions.
 * @example const { predicate } = compileConditions({ all: [{ kind: 'profile', fact: 'engagement', op: 'gte', value: 50 }] })
 */
export function compileConditions(
  c: Condition,
  /** Share one across rules evaluated on the same facts (a rule index); a fresh one otherwise. */
  slots: SlotRegistry = new Map(),
): {
  predicate: Predicate
  explain: (facts: Facts) => Explained
  tree: CompiledTree
} {
  const compiled = compileNode(c, slots)
  return {
    predicate: compiled.predicate,
    explain: (facts) => compiled.explain(facts, 0),
    tree: compiled.tree,
  }
}
