/**
 * @module A readable difference between two versions of a rule: each changed setting once,
 * named in words ("Offer › Button address"), with its value before and after. Rules are
 * flattened to paths first, so a change deep in the condition tree shows as one line, not as a
 * rewritten block of JSON.
 */
import { formatDuration } from './format'

const LABELS: Record<string, string> = {
  name: 'Name',
  priority: 'Priority',
  trigger: 'Trigger',
  event: 'event',
  delay: 'delay',
  unless: 'unless',
  conditions: 'Conditions',
  condition: 'not',
  offer: 'Offer',
  title: 'title',
  body: 'text',
  cta: 'button',
  label: 'label',
  url: 'address',
  code: 'code',
  imageUrl: 'image',
  recommendations: 'recommendations',
  expiresIn: 'valid for',
  caps: 'Limits',
  perShopper: 'per shopper',
  period: 'period',
  cooldown: 'cooldown',
  budget: 'budget',
  audiencePercent: 'Audience %',
  holdoutPercent: 'Holdout %',
  schedule: 'Schedule',
  start: 'start',
  end: 'end',
  within: 'within',
  where: 'where',
  op: 'operator',
  value: 'value',
  field: 'property',
  fact: 'fact',
  kind: 'kind',
}

const DURATIONS = new Set(['delay', 'within', 'period', 'cooldown', 'expiresIn'])

/** Path segments in words: indices count from 1, as people do. */
export function labelOf(path: string): string {
  return (
    path
      .split('.')
      // A group's list is implied by the index that follows: "Conditions › #1 › value".
      .filter((segment, i) => !(i > 0 && segment === 'conditions'))
      .map((segment) =>
        /^\d+$/.test(segment) ? `#${Number(segment) + 1}` : (LABELS[segment] ?? segment),
      )
      .join(' › ')
  )
}
function show(key: string, value: unknown): string {
  if (typeof value === 'number' && DURATIONS.has(key)) {
    return formatDuration(value)
  }
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** Every leaf of a rule as path → text. Empty lists and objects count as a leaf ("[]"). */
export function flatten(value: unknown, path = '', out = new Map<string, string>()) {
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
    if (entries.length === 0) {
      out.set(path, Array.isArray(value) ? '[]' : '{}')
    }
    for (const [key, child] of entries) {
      flatten(child, path ? `${path}.${key}` : key, out)
    }
  } else if (value !== undefined) {
    out.set(path, show(path.split('.').pop() ?? '', value))
  }
  return out
}

export type DiffLine = { path: string; label: string; before?: string; after?: string }

/**
 * The settings that differ between two rule specs, in the order of the newer one (then the
 * ones it dropped).
 * @example diffRules({ name: 'A' }, { name: 'B' }) // [{ path: 'name', label: 'Name', before: 'A', after: 'B' }]
 */
export function diffRules(before: unknown, after: unknown): DiffLine[] {
  const a = flatten(before)
  const b = flatten(after)
  const lines: DiffLine[] = []
  for (const [path, value] of b) {
    if (a.get(path) !== value) {
      lines.push({ path, label: labelOf(path), before: a.get(path), after: value })
    }
  }
  for (const [path, value] of a) {
    if (!b.has(path)) {
      lines.push({ path, label: labelOf(path), before: value })
    }
  }
  return lines.sort((x, y) => rank(x.path) - rank(y.path))
}

/** The rule model's order of parts, so a diff reads top to bottom like the editor. */
const ORDER = [
  'name',
  'priority',
  'trigger',
  'conditions',
  'offer',
  'caps',
  'audiencePercent',
  'holdoutPercent',
  'schedule',
]

function rank(path: string): number {
  const i = ORDER.indexOf(path.split('.')[0] ?? '')
  return i === -1 ? ORDER.length : i
}
