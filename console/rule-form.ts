/**
 * @module The rule editor's form, both ways: a stored rule (the admin API's GET answer) becomes
 * a *draft* — the form's values as text, nested like the rule — and posted form fields become
 * a draft again and then the JSON the admin API validates.
 *
 * Every input is named by its path in the rule (`offer.cta.url`,
 * `conditions.conditions.0.value`), the same path the API's 400 answer names in `issues[].field`,
 * so each message lands next to its input with no mapping table. The draft keeps exactly what
 * the person typed (nothing is dropped or reformatted), which is what the form shows again after
 * a refused save. Judging values is left to the API: this module only shapes and converts them.
 */
import { formatDuration, fromLocalInput, toLocalInput } from './format'

/** The form's values as text, nested like the rule; lists are arrays. */
export type Draft = { [key: string]: DraftValue }
export type DraftValue = string | string[] | Draft | Draft[]

const DURATION_KEYS = new Set(['delay', 'within', 'period', 'cooldown', 'expiresIn'])

/** A condition kind the builder offers, with the default fields of a new one. */
export const NEW_CONDITION: Record<string, Draft> = {
  count: newLeaf(),
  event: { kind: 'event', field: '', op: 'eq', value: '' },
  profile: { kind: 'profile', fact: 'engagement', op: 'gte', value: '' },
  page: { kind: 'page', op: 'startsWith', value: '' },
  time: { kind: 'time', days: [] },
  all: { kind: 'all', conditions: [] },
  any: { kind: 'any', conditions: [] },
  not: { kind: 'not', condition: newLeaf() },
}

function newLeaf(): Draft {
  return { kind: 'count', event: 'ProductViewed', where: [], within: '10m', op: 'gte', value: '1' }
}

/** An empty rule: what "New rule" opens with. */
export function emptyDraft(): Draft {
  return {
    name: '',
    priority: '100',
    trigger: { event: 'ProductViewed', delay: '', unless: '' },
    conditions: { kind: 'all', conditions: [] },
    offer: { title: '', body: '', cta: { label: '', url: '' }, expiresIn: '1d' },
    caps: {},
    audiencePercent: '100',
    holdoutPercent: '0',
    schedule: {},
  }
}

function textOf(key: string, value: unknown, parent: string): DraftValue {
  if (DURATION_KEYS.has(key) && typeof value === 'number') {
    return formatDuration(value)
  }
  if (parent === 'schedule' && typeof value === 'string') {
    return toLocalInput(value)
  }
  if (key === 'value' && Array.isArray(value)) {
    return value.map(String).join(', ')
  }
  if (key === 'days' && Array.isArray(value)) {
    return value.map(String)
  }
  return draftOf(value, key)
}

function draftOf(value: unknown, key = ''): DraftValue {
  if (Array.isArray(value)) {
    return value.map((item) => draftOf(item, key) as Draft)
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, textOf(k, v, key)] as const),
    ) as Draft
  }
  return value === undefined || value === null ? '' : String(value)
}

/**
 * A stored rule (GET /v1/admin/rules/:id) as the form's draft. The root of the conditions is
 * always shown as an all/any group; a single condition or a "not" at the root is wrapped in an
 * "all" group, which means the same.
 * @example draftFromRule(await res.json()).offer // { title: '10% off shoes', … }
 */
export function draftFromRule(rule: Record<string, unknown>): Draft {
  const draft = draftOf(rule) as Draft
  const root = draft.conditions as Draft | undefined
  if (!root || root.kind === undefined) {
    draft.conditions = { kind: 'all', conditions: [] }
  } else if (root.kind !== 'all' && root.kind !== 'any') {
    draft.conditions = { kind: 'all', conditions: [root] }
  }
  return draft
}

function isIndex(segment: string): boolean {
  return /^\d+$/.test(segment)
}

/** Objects whose keys are all indices become arrays (in index order, gaps closed). */
function compact(value: DraftValue): DraftValue {
  if (typeof value === 'string' || Array.isArray(value)) {
    return value
  }
  const keys = Object.keys(value)
  const entries = keys.map((k) => [k, compact(value[k] as DraftValue)] as const)
  if (keys.length > 0 && keys.every(isIndex)) {
    return entries.sort((a, b) => Number(a[0]) - Number(b[0])).map(([, v]) => v as Draft)
  }
  return Object.fromEntries(entries)
}

/** Field names the form uses that are not part of the rule (the action, the CSRF token). */
function isControl(name: string): boolean {
  return name.startsWith('_')
}

/**
 * Posted form fields (name = path in the rule) as a draft. A name given several times (the
 * day checkboxes) becomes a list.
 * @example draftFromForm([['offer.cta.url', 'shop.example']]).offer // { cta: { url: 'shop.example' } }
 */
export function draftFromForm(entries: Iterable<[string, string]>): Draft {
  const root: Draft = {}
  const lists = new Set<string>()
  for (const [name, value] of entries) {
    if (isControl(name)) {
      continue
    }
    const path = name.split('.')
    let node: Draft = root
    for (const segment of path.slice(0, -1)) {
      const next = node[segment]
      if (next === undefined || typeof next === 'string' || Array.isArray(next)) {
        node[segment] = {}
      }
      node = node[segment] as Draft
    }
    const leaf = path[path.length - 1] as string
    if (leaf === 'days' || lists.has(name)) {
      lists.add(name)
      const list = node[leaf]
      node[leaf] = Array.isArray(list) ? [...(list as string[]), value] : [value]
    } else {
      node[leaf] = value
    }
  }
  const draft = compact(root) as Draft
  draft.conditions ??= { kind: 'all', conditions: [] }
  return draft
}

/** The node at a dotted path of the draft, or undefined. */
export function getAt(draft: DraftValue | undefined, path: string): DraftValue | undefined {
  let node: DraftValue | undefined = draft
  for (const segment of path.split('.').filter(Boolean)) {
    if (node === undefined || typeof node === 'string') {
      return undefined
    }
    node = Array.isArray(node) ? (node as DraftValue[])[Number(segment)] : (node as Draft)[segment]
  }
  return node
}

/** Text at a path ('' when absent). */
export function textAt(draft: DraftValue | undefined, path: string): string {
  const value = getAt(draft, path)
  return typeof value === 'string' ? value : ''
}

function listAt(draft: Draft, path: string, key: string): Draft[] {
  const node = getAt(draft, path)
  if (node === undefined || typeof node === 'string' || Array.isArray(node)) {
    throw new Error(`no group at ${path}`)
  }
  const list = Array.isArray(node[key]) ? (node[key] as Draft[]) : []
  node[key] = list
  return list
}

/**
 * Gives every condition whose kind was just changed the fields its new kind needs (a "not"
 * gets a condition to negate), keeping whatever was already typed.
 */
function normalise(node: DraftValue | undefined): void {
  if (node === undefined || typeof node === 'string' || Array.isArray(node)) {
    return
  }
  const defaults = NEW_CONDITION[textAt(node, 'kind')]
  for (const [key, value] of Object.entries(defaults ?? {})) {
    if (node[key] === undefined) {
      node[key] = structuredClone(value)
    }
  }
  if (Array.isArray(node.conditions)) {
    for (const child of node.conditions as Draft[]) {
      normalise(child)
    }
  }
  normalise(node.condition)
}

/**
 * Applies one of the builder's buttons (`_action` of the posted form) to the draft, in place,
 * and returns the path of the input to focus next (the new condition's kind, the new filter's
 * property, or after a removal the group it was in), if any:
 * `add:<group path>:<kind>`, `remove:<node path>`, `add-where:<count path>`,
 * `remove-where:<count path>.where.<n>`. Anything else (`refresh`) changes nothing.
 */
export function applyAction(draft: Draft, action: string): string | undefined {
  normalise(draft.conditions)
  const [verb, path = '', kind = 'count'] = action.split(':')
  if (verb === 'add') {
    const list = listAt(draft, path, 'conditions')
    list.push(structuredClone(NEW_CONDITION[kind] ?? newLeaf()))
    return `${path}.conditions.${list.length - 1}.kind`
  }
  if (verb === 'add-where') {
    const list = listAt(draft, path, 'where')
    list.push({ field: 'category', op: 'eq', value: '' })
    return `${path}.where.${list.length - 1}.field`
  }
  if (verb === 'remove' || verb === 'remove-where') {
    const segments = path.split('.')
    const index = Number(segments.pop())
    const key = segments.pop() as string
    const parent = segments.join('.')
    const list = listAt(draft, parent, key)
    if (Number.isInteger(index) && index >= 0 && index < list.length) {
      list.splice(index, 1)
    }
    return verb === 'remove' ? `${parent}.kind` : `${parent}.event`
  }
  return undefined
}

// From draft to the API's JSON. Empty text means "not set"; text that should be a number but
// is not is sent as typed, so the API's message ("expected a number") reaches the field.

function text(value: DraftValue | undefined): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined
}

function num(value: DraftValue | undefined): number | string | undefined {
  const t = text(value)
  if (t === undefined) {
    return undefined
  }
  const n = Number(t)
  return Number.isFinite(n) ? n : t
}

/**
 * A comparison value as typed: `true`/`false` become yes/no, plain numbers become numbers,
 * anything else is text. (A product id typed as digits is therefore a number: compare ids with
 * `contains` or `in` when they look like numbers.)
 */
function scalar(t: string): string | number | boolean {
  if (t === 'true' || t === 'false') {
    return t === 'true'
  }
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t
}

function comparisonValue(op: string, value: DraftValue | undefined): unknown {
  if (op === 'exists') {
    return undefined
  }
  const t = text(value)
  if (op === 'in') {
    return (t ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(scalar)
  }
  if (['gt', 'gte', 'lt', 'lte'].includes(op)) {
    return num(value)
  }
  return t === undefined ? undefined : scalar(t)
}

function prune<T extends Record<string, unknown>>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T
}

function conditionOf(node: DraftValue | undefined): unknown {
  const d = (node && typeof node === 'object' && !Array.isArray(node) ? node : {}) as Draft
  const kind = text(d.kind) ?? 'all'
  const op = text(d.op) ?? ''
  switch (kind) {
    case 'all':
    case 'any':
      return {
        kind,
        conditions: (Array.isArray(d.conditions) ? (d.conditions as Draft[]) : []).map(conditionOf),
      }
    case 'not':
      return { kind, condition: conditionOf(d.condition) }
    case 'event':
      return prune({ kind, field: text(d.field) ?? '', op, value: comparisonValue(op, d.value) })
    case 'profile': {
      const fact = text(d.fact) ?? ''
      return prune({
        kind,
        fact,
        category: fact === 'interest' ? text(d.category) : undefined,
        eventType: fact === 'events' ? text(d.eventType) : undefined,
        op,
        value: comparisonValue(op, d.value),
      })
    }
    case 'count':
      return prune({
        kind,
        event: text(d.event) ?? '',
        where: (Array.isArray(d.where) ? (d.where as Draft[]) : []).map((w) => {
          const whereOp = text(w.op) ?? ''
          return prune({
            field: text(w.field) ?? '',
            op: whereOp,
            value: comparisonValue(whereOp, w.value),
          })
        }),
        within: text(d.within) ?? '',
        op,
        value: num(d.value),
      })
    case 'page':
      return { kind, op, value: text(d.value) ?? '' }
    case 'time': {
      const from = num(getAt(d, 'hours.from'))
      const to = num(getAt(d, 'hours.to'))
      const days = Array.isArray(d.days) ? (d.days as string[]).filter(Boolean) : []
      return prune({
        kind,
        hours: from === undefined && to === undefined ? undefined : { from, to },
        days: days.length > 0 ? days : undefined,
      })
    }
    default:
      return { kind }
  }
}

/**
 * The draft as the JSON body of POST/PUT /v1/admin/rules.
 * @example ruleFromDraft(draftFromForm(form)).offer.cta // { label: 'Shop', url: '…' }
 */
export function ruleFromDraft(d: Draft) {
  const at = (path: string) => getAt(d, path)
  const recommendations = text(at('offer.recommendations.source'))
  const perShopper =
    text(at('caps.perShopper.count')) !== undefined ||
    text(at('caps.perShopper.period')) !== undefined
  const start = text(at('schedule.start'))
  const end = text(at('schedule.end'))
  return prune({
    name: text(at('name')) ?? '',
    priority: num(at('priority')),
    trigger: prune({
      event: text(at('trigger.event')) ?? '',
      delay: text(at('trigger.delay')),
      unless: text(at('trigger.unless')),
    }),
    conditions: conditionOf(at('conditions')),
    offer: prune({
      title: text(at('offer.title')) ?? '',
      body: text(at('offer.body')),
      cta: { label: text(at('offer.cta.label')) ?? '', url: text(at('offer.cta.url')) ?? '' },
      code: text(at('offer.code')),
      imageUrl: text(at('offer.imageUrl')),
      recommendations:
        recommendations === undefined
          ? undefined
          : { source: recommendations, count: num(at('offer.recommendations.count')) ?? 3 },
      expiresIn: text(at('offer.expiresIn')),
    }),
    caps: prune({
      perShopper: perShopper
        ? { count: num(at('caps.perShopper.count')), period: text(at('caps.perShopper.period')) }
        : undefined,
      cooldown: text(at('caps.cooldown')),
      budget: num(at('caps.budget')),
    }),
    audiencePercent: num(at('audiencePercent')),
    holdoutPercent: num(at('holdoutPercent')),
    schedule: prune({
      start: start === undefined ? undefined : fromLocalInput(start),
      end: end === undefined ? undefined : fromLocalInput(end),
    }),
  })
}
