/**
 * @module An exact pre-filter for a list of rules evaluated on the same event: each rule is filed
 * under the leaves it cannot pass without (its guards), and an event looks up, once per fact,
 * which guards pass. A rule none of whose guards passes is skipped: it provably fails, so the
 * caller may record "conditions not met" for it without evaluating it. With 250 rules per
 * trigger type most fail on a cheap fact of the event (its page, a price, the hour), and a few
 * lookups replace most evaluations.
 *
 * The guards of a condition are leaves such that it passes only if one of them passes:
 * - an indexable leaf (below): itself;
 * - `all`: the guards of one of its items, the cheapest to look up (lowest rank, then fewest);
 * - `any`: the guards of all its items together, when every item has some;
 * - `not`, other leaves (`ne`, `contains`, `exists`, page `matches`) and empty groups: none,
 *   and a rule without guards is a candidate on every event.
 *
 * Indexable leaves and their lookups, each agreeing exactly with the leaf's own test in
 * rule-conditions.ts (rule-index.unit.test.ts compares them on awkward values):
 * - `eq`, `in` (page `eq` too): a map from the normalised value (`norm`);
 * - `gt`, `gte`, `lt`, `lte`: thresholds sorted, one binary search per operator;
 * - `startsWith` (event, page): a map from lowercase prefix, one lookup per prefix length used;
 * - `time`: a table of the 168 hours of a week, filled by the leaf's own test.
 * A leaf that can never pass (a threshold that is not a number, `in` without a list) is filed
 * nowhere: its rule is skipped on every event, which is exact too.
 */
import { asNumber, type CompiledTree, type Facts, norm } from './rule-conditions'
import { type LeafCondition, WEEKDAYS } from './rules'

type Leaf = Extract<CompiledTree, { kind: 'leaf' }>

type Family = 'equal' | 'prefix' | 'threshold' | 'week'

const THRESHOLDS = new Set(['gt', 'gte', 'lt', 'lte'])

/**
 * How a leaf is looked up, and its rank: the cost of looking it up, lowest first. The event's
 * own fields are at hand and usually decide most; profile facts take a little arithmetic; a
 * count scans the recent list, so it guards a rule only when nothing cheaper does.
 */
function familyOf(leaf: LeafCondition): { family: Family; rank: number } | undefined {
  if (leaf.kind === 'time') {
    return { family: 'week', rank: 3 }
  }
  const family: Family | undefined =
    leaf.op === 'eq' || leaf.op === 'in'
      ? 'equal'
      : leaf.op === 'startsWith'
        ? 'prefix'
        : THRESHOLDS.has(leaf.op)
          ? 'threshold'
          : undefined
  if (family === undefined) {
    return undefined
  }
  if (leaf.kind === 'event' || leaf.kind === 'page') {
    return { family, rank: family === 'equal' ? 0 : family === 'prefix' ? 1 : 2 }
  }
  return { family, rank: leaf.kind === 'profile' ? (family === 'equal' ? 4 : 5) : 6 }
}

type Guards = { leaves: { leaf: Leaf; family: Family }[]; rank: number }

/**
 * The guards of a condition (see the module comment), or undefined when it has none.
 * @example guardsOf(compileConditions({ kind: 'page', op: 'startsWith', value: '/p/' }).tree)
 */
export function guardsOf(tree: CompiledTree): Guards | undefined {
  switch (tree.kind) {
    case 'leaf': {
      const lookup = familyOf(tree.leaf)
      return lookup && { leaves: [{ leaf: tree, family: lookup.family }], rank: lookup.rank }
    }
    case 'all': {
      let best: Guards | undefined
      for (const item of tree.items) {
        const g = guardsOf(item)
        if (
          g &&
          (!best ||
            g.rank < best.rank ||
            (g.rank === best.rank && g.leaves.length < best.leaves.length))
        ) {
          best = g
        }
      }
      return best
    }
    case 'any': {
      if (tree.items.length === 0) {
        return undefined
      }
      const leaves: Guards['leaves'] = []
      let rank = 0
      for (const item of tree.items) {
        const g = guardsOf(item)
        if (!g) {
          return undefined
        }
        leaves.push(...g.leaves)
        rank = Math.max(rank, g.rank)
      }
      return { leaves, rank }
    }
    case 'not':
      return undefined
  }
}

/** Marks the positions of the rules whose guard passes on these facts. */
type Lookup = (facts: Facts, marks: Uint8Array) => void

function markAll(marks: Uint8Array, positions: readonly number[] | undefined): void {
  if (positions) {
    for (const p of positions) {
      marks[p] = 1
    }
  }
}

function fileUnder<K>(map: Map<K, number[]>, key: K, position: number): void {
  const list = map.get(key)
  if (list) {
    list.push(position)
  } else {
    map.set(key, [position])
  }
}

/** `eq` and `in`: passes iff the fact is set and normalises to one of the values. */
function equalGroup(actual: Leaf['actual']) {
  const byValue = new Map<unknown, number[]>()
  return {
    file({ leaf }: Leaf, position: number): void {
      if (leaf.kind === 'time') {
        return
      }
      const values = leaf.op === 'in' ? (Array.isArray(leaf.value) ? leaf.value : []) : [leaf.value]
      for (const v of values) {
        fileUnder(byValue, norm(v), position)
      }
    },
    finish: (): Lookup => (facts, marks) => {
      const a = actual(facts)
      if (a !== undefined && a !== null) {
        markAll(marks, byValue.get(norm(a)))
      }
    },
  }
}

/** `startsWith`: passes iff the fact is text whose lowercase starts with the lowercase value. */
function prefixGroup(actual: Leaf['actual']) {
  const byPrefix = new Map<string, number[]>()
  const lengths: number[] = []
  return {
    file({ leaf }: Leaf, position: number): void {
      if (leaf.kind === 'time' || typeof leaf.value !== 'string') {
        return
      }
      const prefix = leaf.value.toLowerCase()
      fileUnder(byPrefix, prefix, position)
      if (!lengths.includes(prefix.length)) {
        lengths.push(prefix.length)
      }
    },
    finish: (): Lookup => {
      lengths.sort((x, y) => x - y)
      return (facts, marks) => {
        const a = actual(facts)
        if (typeof a !== 'string') {
          return
        }
        const text = a.toLowerCase()
        for (const length of lengths) {
          if (length > text.length) {
            return
          }
          markAll(marks, byPrefix.get(text.slice(0, length)))
        }
      }
    },
  }
}

type Sorted = { thresholds: Float64Array; positions: Int32Array }

function sorted(entries: [number, number][]): Sorted {
  entries.sort((x, y) => x[0] - y[0])
  return {
    thresholds: Float64Array.from(entries, (e) => e[0]),
    positions: Int32Array.from(entries, (e) => e[1]),
  }
}

/** The first index whose threshold is at least x (`above`: more than x). */
function bound(thresholds: Float64Array, x: number, above: boolean): number {
  let lo = 0
  let hi = thresholds.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const t = thresholds[mid] as number
    if (above ? t <= x : t < x) {
      lo = mid + 1
    } else {
      hi = mid
    }
  }
  return lo
}

function markRange(marks: Uint8Array, s: Sorted, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    marks[s.positions[i] as number] = 1
  }
}

/** `gt`..`lte`: the fact as a number (`asNumber`) against a numeric threshold. */
function thresholdGroup(actual: Leaf['actual']) {
  const entries: Record<string, [number, number][]> = { gt: [], gte: [], lt: [], lte: [] }
  return {
    file({ leaf }: Leaf, position: number): void {
      if (leaf.kind !== 'time' && typeof leaf.value === 'number') {
        entries[leaf.op]?.push([leaf.value, position])
      }
    },
    finish: (): Lookup => {
      const gt = sorted(entries.gt ?? [])
      const gte = sorted(entries.gte ?? [])
      const lt = sorted(entries.lt ?? [])
      const lte = sorted(entries.lte ?? [])
      return (facts, marks) => {
        const x = asNumber(actual(facts))
        if (Number.isNaN(x)) {
          return
        }
        markRange(marks, gt, 0, bound(gt.thresholds, x, false))
        markRange(marks, gte, 0, bound(gte.thresholds, x, true))
        markRange(marks, lt, bound(lt.thresholds, x, true), lt.positions.length)
        markRange(marks, lte, bound(lte.thresholds, x, false), lte.positions.length)
      }
    },
  }
}

const DAY_OF = new Map<string, number>(WEEKDAYS.map((day, i) => [day, i]))

/** `time`: the leaf's own test run once per hour of the week, at build time. */
function weekGroup(actual: Leaf['actual']) {
  const byHour: number[][] = Array.from({ length: 7 * 24 }, () => [])
  const filed: [Leaf['test'], number][] = []
  return {
    file({ test }: Leaf, position: number): void {
      filed.push([test, position])
      for (const [day, d] of DAY_OF) {
        for (let hour = 0; hour < 24; hour++) {
          if (test({ hour, day })) {
            byHour[d * 24 + hour]?.push(position)
          }
        }
      }
    },
    finish: (): Lookup => (facts, marks) => {
      const t = actual(facts) as { hour: number; day: string }
      const d = DAY_OF.get(t.day)
      if (d !== undefined && Number.isInteger(t.hour) && t.hour >= 0 && t.hour < 24) {
        markAll(marks, byHour[d * 24 + t.hour])
        return
      }
      // Not an hour of the table (localTime gives none such): ask each leaf.
      for (const [test, position] of filed) {
        if (test(t)) {
          marks[position] = 1
        }
      }
    },
  }
}

type Group = {
  file(leaf: Leaf, position: number): void
  /** The lookup over everything filed. */
  finish(): Lookup
}

const GROUPS = {
  equal: equalGroup,
  prefix: prefixGroup,
  threshold: thresholdGroup,
  week: weekGroup,
} satisfies Record<string, (actual: Leaf['actual']) => Group>

export type CandidateIndex = {
  /**
   * The positions, ascending, of the rules that may pass on these facts; every other rule
   * fails on them. A fresh array per call (the caller may await between rules).
   */
  candidates(facts: Facts): number[]
  /** How many rules have guards (the others are candidates on every event). */
  guarded: number
}

/**
 * Indexes a list of compiled conditions; `undefined` marks a rule the caller wants evaluated on
 * every event.
 * @example const index = createCandidateIndex(rules.map((r) => r.tree)); index.candidates(facts)
 */
export function createCandidateIndex(trees: readonly (CompiledTree | undefined)[]): CandidateIndex {
  const n = trees.length
  const always = new Uint8Array(n)
  const groups = new Map<string, Group>()
  let guarded = 0
  trees.forEach((tree, position) => {
    const guards = tree && guardsOf(tree)
    if (!guards) {
      always[position] = 1
      return
    }
    guarded++
    for (const { leaf, family } of guards.leaves) {
      const key = `${family}:${leaf.fact}`
      let group = groups.get(key)
      if (!group) {
        group = GROUPS[family](leaf.actual)
        groups.set(key, group)
      }
      group.file(leaf, position)
    }
  })
  const lookups = [...groups.values()].map((g) => g.finish())
  const marks = new Uint8Array(n)
  return {
    guarded,
    candidates(facts) {
      marks.set(always)
      for (const lookup of lookups) {
        lookup(facts, marks)
      }
      const out: number[] = []
      for (let i = 0; i < n; i++) {
        if (marks[i] === 1) {
          out.push(i)
        }
      }
      return out
    },
  }
}
