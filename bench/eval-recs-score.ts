/**
 * @module The offline half of `npm run eval:recs`: the dataset split (each shopper's last event
 * held out), HitRate@K and NDCG@K, and the three baselines Nudge is measured against. Pure, no
 * I/O, so the metric and every baseline are unit-tested (eval-recs.unit.test.ts).
 *
 * Baselines are the textbook ones, computed from the same training events Nudge was given:
 * - popularity: the items with the most training events, the same list for every shopper;
 * - recent items: the shopper's own distinct items, newest first;
 * - item-kNN: cosine on the binary shopper × item matrix, a candidate scored by the sum of its
 *   similarity to the shopper's items; items the shopper already has are not candidates (the
 *   classic definition: "recent items" covers re-visits).
 * None excludes purchases and none is padded up to K: each is measured as defined. Ties break
 * by popularity, then by item id, so a run is deterministic and a baseline never loses a tie
 * to an arbitrary order.
 */
import { csvMapper, parseCsvLine } from '../bin/import-lines'

/** One accepted CSV row: what a shopper did, with its line number in the file. */
export type EvalEvent = {
  user: string
  item: string
  category: string
  event: 'view' | 'cart' | 'fav' | 'buy'
  /** Unix seconds, as in the file. */
  ts: number
  line: number
}

/** The training events (every event but the held-out ones) and the held-out event per shopper. */
export type Split = {
  training: EvalEvent[]
  heldOut: Map<string, EvalEvent>
  /** Each evaluated shopper's training events, oldest first. */
  histories: Map<string, EvalEvent[]>
}

/**
 * The events moved in time so the newest is at `newest` (Unix seconds), every gap unchanged,
 * and the shift applied. Nudge's maintenance decays trending against the clock every ten
 * minutes: history years old would be pruned as "faded" the first time that ran mid-run.
 * @example shiftTime(events, Math.floor(Date.now() / 1000) - 60).seconds
 */
export function shiftTime(
  events: readonly EvalEvent[],
  newest: number,
): { events: EvalEvent[]; seconds: number } {
  const last = events.reduce((max, e) => Math.max(max, e.ts), Number.NEGATIVE_INFINITY)
  const seconds = Number.isFinite(last) ? Math.round(newest - last) : 0
  return { events: events.map((e) => ({ ...e, ts: e.ts + seconds })), seconds }
}

/** Oldest first; events of the same second keep the file's order (the later line is newer). */
export function byTime(a: EvalEvent, b: EvalEvent): number {
  return a.ts - b.ts || a.line - b.line
}

/**
 * Holds out the chronologically last event of every shopper with at least `minEvents` events.
 * Training keeps every other event (also those of shoppers too short to evaluate: they still
 * shape popularity and neighbours), sorted by time across shoppers.
 * @example splitLastEvent(events, 3).heldOut.get('otto-0')?.item
 */
export function splitLastEvent(events: readonly EvalEvent[], minEvents = 3): Split {
  const byUser = new Map<string, EvalEvent[]>()
  for (const e of events) {
    const list = byUser.get(e.user)
    if (list) {
      list.push(e)
    } else {
      byUser.set(e.user, [e])
    }
  }
  const training: EvalEvent[] = []
  const heldOut = new Map<string, EvalEvent>()
  const histories = new Map<string, EvalEvent[]>()
  for (const [user, list] of byUser) {
    list.sort(byTime)
    const last = list.at(-1)
    if (list.length >= minEvents && last !== undefined) {
      heldOut.set(user, last)
      const history = list.slice(0, -1)
      histories.set(user, history)
      training.push(...history)
    } else {
      training.push(...list)
    }
  }
  training.sort(byTime)
  return { training, heldOut, histories }
}

/**
 * NDCG@k of a list against one relevant item: 1 / log2(rank + 1) when it is at rank ≤ k
 * (1-based), else 0. With one relevant item the ideal DCG is 1.
 * @example ndcgAt(['a', 'b'], 'b', 10) // 1 / log2(3) ≈ 0.631
 */
export function ndcgAt(list: readonly string[], target: string, k: number): number {
  const rank = list.slice(0, k).indexOf(target)
  return rank === -1 ? 0 : 1 / Math.log2(rank + 2)
}

/** 1 when the target is in the list's first k items, else 0. */
export function hitAt(list: readonly string[], target: string, k: number): number {
  return list.slice(0, k).includes(target) ? 1 : 0
}

export type Scores = { hitRate: number; ndcg: number; shoppers: number }

/**
 * Mean HitRate@k and NDCG@k over the held-out shoppers; a shopper without a list scores 0.
 * @example evaluate(new Map([['u1', ['a']]]), new Map([['u1', 'a']]), 10) // { hitRate: 1, ndcg: 1, shoppers: 1 }
 */
export function evaluate(
  lists: ReadonlyMap<string, readonly string[]>,
  targets: ReadonlyMap<string, string>,
  k: number,
): Scores {
  let hits = 0
  let gain = 0
  for (const [user, target] of targets) {
    const list = lists.get(user) ?? []
    hits += hitAt(list, target, k)
    gain += ndcgAt(list, target, k)
  }
  const n = targets.size
  return { hitRate: n === 0 ? 0 : hits / n, ndcg: n === 0 ? 0 : gain / n, shoppers: n }
}

/**
 * Hits split by what the held-out item was: a re-visit (in the shopper's own training
 * history) or an item new to the shopper. Shows where a method's hits come from.
 * @example hitsByKind(lists, targets, new Set(['u1']), 10) // { revisit: 1, fresh: 0 }
 */
export function hitsByKind(
  lists: ReadonlyMap<string, readonly string[]>,
  targets: ReadonlyMap<string, string>,
  revisiting: ReadonlySet<string>,
  k: number,
): { revisit: number; fresh: number } {
  let revisit = 0
  let fresh = 0
  for (const [user, target] of targets) {
    const hit = hitAt(lists.get(user) ?? [], target, k)
    if (revisiting.has(user)) {
      revisit += hit
    } else {
      fresh += hit
    }
  }
  return { revisit, fresh }
}

/** Training events per item: the popularity every baseline breaks ties with. */
export function itemCounts(training: readonly EvalEvent[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const { item } of training) {
    counts.set(item, (counts.get(item) ?? 0) + 1)
  }
  return counts
}

/** Best first: higher score, then more popular, then the smaller id. */
function better(
  [a, x]: readonly [string, number],
  [b, y]: readonly [string, number],
  counts: ReadonlyMap<string, number>,
): boolean {
  if (x !== y) {
    return x > y
  }
  const popular = (counts.get(a) ?? 0) - (counts.get(b) ?? 0)
  return popular !== 0 ? popular > 0 : a < b
}

/** The k best items of a score map, without sorting all of it (kNN candidates run to thousands). */
function ranked(
  scores: ReadonlyMap<string, number>,
  counts: ReadonlyMap<string, number>,
  k: number,
): string[] {
  const best: (readonly [string, number])[] = []
  for (const entry of scores) {
    const last = best.at(-1)
    if (best.length >= k && (last === undefined || !better(entry, last, counts))) {
      continue
    }
    let i = best.length
    best.push(entry)
    for (let prev = best[i - 1]; prev !== undefined && better(entry, prev, counts); ) {
      best[i] = prev
      i -= 1
      prev = best[i - 1]
    }
    best[i] = entry
    if (best.length > k) {
      best.pop()
    }
  }
  return best.map(([item]) => item)
}

/**
 * The k items with the most training events.
 * @example popularity(itemCounts(training), 10)
 */
export function popularity(counts: ReadonlyMap<string, number>, k: number): string[] {
  return ranked(counts, counts, k)
}

/**
 * A shopper's k most recent distinct items, newest first (history oldest first).
 * @example recentItems([view('a', 1), view('b', 2), view('a', 3)], 10) // ['a', 'b']
 */
export function recentItems(history: readonly EvalEvent[], k: number): string[] {
  const seen = new Set<string>()
  for (let i = history.length - 1; i >= 0 && seen.size < k; i--) {
    const e = history[i]
    if (e !== undefined) {
      seen.add(e.item)
    }
  }
  return [...seen]
}

/**
 * Item-kNN over the binary shopper × item matrix of the training events: cos(i, j) =
 * |U_i ∩ U_j| / √(|U_i| · |U_j|). Neighbour rows are built lazily, once per item, so only the
 * items of evaluated shoppers cost work.
 * @example const knn = createItemKnn(training); knn(history, 10)
 */
export function createItemKnn(training: readonly EvalEvent[]) {
  const usersOf = new Map<string, Set<string>>()
  const itemsOf = new Map<string, Set<string>>()
  for (const { user, item } of training) {
    addTo(usersOf, item, user)
    addTo(itemsOf, user, item)
  }
  const counts = itemCounts(training)
  const rows = new Map<string, Map<string, number>>()

  /** cos(i, ·) for every item sharing a shopper with i. */
  const row = (i: string): Map<string, number> => {
    const cached = rows.get(i)
    if (cached) {
      return cached
    }
    const users = usersOf.get(i) ?? new Set<string>()
    const common = new Map<string, number>()
    for (const user of users) {
      for (const j of itemsOf.get(user) ?? []) {
        if (j !== i) {
          common.set(j, (common.get(j) ?? 0) + 1)
        }
      }
    }
    const out = new Map<string, number>()
    for (const [j, both] of common) {
      out.set(j, both / Math.sqrt(users.size * (usersOf.get(j)?.size ?? 1)))
    }
    rows.set(i, out)
    return out
  }

  return (history: readonly EvalEvent[], k: number): string[] => {
    const own = new Set(history.map((e) => e.item))
    const scores = new Map<string, number>()
    for (const i of own) {
      for (const [j, sim] of row(i)) {
        if (!own.has(j)) {
          scores.set(j, (scores.get(j) ?? 0) + sim)
        }
      }
    }
    return ranked(scores, counts, k)
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key)
  if (set) {
    set.add(value)
  } else {
    map.set(key, new Set([value]))
  }
}

/** The shape of a dataset, to show how sparse and long-tailed it is. */
export type DatasetShape = {
  events: number
  shoppers: number
  items: number
  /** Shoppers with one to five events, as a share of all shoppers. */
  shortShoppers: number
  /** Items with exactly one event, as a share of all items. */
  onceItems: number
}

/**
 * @example describeDataset(events).onceItems // 0.71
 */
export function describeDataset(events: readonly EvalEvent[]): DatasetShape {
  const perUser = new Map<string, number>()
  for (const { user } of events) {
    perUser.set(user, (perUser.get(user) ?? 0) + 1)
  }
  const counts = itemCounts(events)
  const short = [...perUser.values()].filter((n) => n <= 5).length
  const once = [...counts.values()].filter((n) => n === 1).length
  return {
    events: events.length,
    shoppers: perUser.size,
    items: counts.size,
    shortShoppers: perUser.size === 0 ? 0 : short / perUser.size,
    onceItems: counts.size === 0 ? 0 : once / counts.size,
  }
}

/**
 * The shoppers whose held-out item is a re-visit (in their own training history), and how many
 * held-out items anyone's training events contain.
 * @example targetKinds(split).revisiting.size // 4
 */
export function targetKinds(split: Split): { revisiting: Set<string>; known: number } {
  const known = new Set(split.training.map((e) => e.item))
  const revisiting = new Set<string>()
  let seen = 0
  for (const [user, target] of split.heldOut) {
    if ((split.histories.get(user) ?? []).some((e) => e.item === target.item)) {
      revisiting.add(user)
    }
    if (known.has(target.item)) {
      seen += 1
    }
  }
  return { revisiting, known: seen }
}

/**
 * The rows the import accepts, as eval events: each line goes through the import's own mapper,
 * so a line the import would reject is not evaluated either. Line numbers count from 1 (the header).
 * @example parseEvents(['user_id,item_id,category_id,event,ts', 'u1,p1,c1,view,1714521600']).events[0]?.line // 2
 */
export function parseEvents(lines: readonly string[]): { events: EvalEvent[]; rejected: number } {
  const header = (lines[0] ?? '').replace(/^\uFEFF/, '')
  const map = csvMapper(header, 'user')
  if (typeof map === 'string') {
    throw new Error(map)
  }
  const names = (parseCsvLine(header) ?? []).map((n) => n.trim().toLowerCase())
  const column = (fields: string[], name: string) => fields[names.indexOf(name)] ?? ''
  const events: EvalEvent[] = []
  let rejected = 0
  lines.forEach((raw, i) => {
    const text = raw.replace(/\r$/, '')
    if (i === 0 || text.trim() === '') {
      return
    }
    const fields = parseCsvLine(text)
    if (!map(i + 1, text).ok || fields === undefined) {
      rejected += 1
      return
    }
    events.push({
      user: column(fields, 'user_id'),
      item: column(fields, 'item_id'),
      category: column(fields, 'category_id'),
      event: column(fields, 'event').toLowerCase() as EvalEvent['event'],
      ts: Number(column(fields, 'ts')),
      line: i + 1,
    })
  })
  return { events, rejected }
}

/**
 * The training file: the header and the training events in the given order, quoted when needed.
 * @example trainingCsv(split.training).split('\n')[0] // 'user_id,item_id,category_id,event,ts'
 */
export function trainingCsv(training: readonly EvalEvent[]): string {
  const field = (s: string) => (/[",]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s)
  const rows = training.map((e) =>
    [e.user, e.item, e.category, e.event, String(e.ts)].map(field).join(','),
  )
  return `user_id,item_id,category_id,event,ts\n${rows.join('\n')}\n`
}
