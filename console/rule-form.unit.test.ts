import { describe, expect, it } from 'vitest'
import { ruleInput } from '../streams/rules'
import { EXAMPLE_RULES } from '../test/fixtures/rules'
import { diffRules } from './rule-diff'
import { applyAction, draftFromForm, draftFromRule, ruleFromDraft, textAt } from './rule-form'

/** Flattens a draft back into form fields, as the browser would post them. */
function fields(value: unknown, path = '', out: [string, string][] = []): [string, string][] {
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    for (const v of value) {
      out.push([path, v])
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      fields(v, path ? `${path}.${k}` : k, out)
    }
  } else {
    out.push([path, String(value)])
  }
  return out
}

describe('rule form', () => {
  it.each(Object.entries(EXAMPLE_RULES))('round-trips %s through the form unchanged', (_, rule) => {
    const stored = ruleInput.parse(rule)
    const posted = draftFromForm(fields(draftFromRule({ id: 'rul_1', ...stored })))
    const again = ruleInput.safeParse(ruleFromDraft(posted))
    expect(again.success, JSON.stringify(again.error?.issues)).toBe(true)
    expect(diffRules(stored, again.data)).toEqual([])
  })

  it('names inputs by the paths the API reports issues at', () => {
    const draft = draftFromForm([
      ['name', 'x'],
      ['conditions.kind', 'all'],
      ['conditions.conditions.0.kind', 'count'],
      ['conditions.conditions.0.event', 'ClickedProduct'],
      ['conditions.conditions.0.within', '10m'],
      ['conditions.conditions.0.op', 'gte'],
      ['conditions.conditions.0.value', 'lots'],
      ['offer.cta.url', 'shop.example'],
    ])
    const parsed = ruleInput.safeParse(ruleFromDraft(draft))
    const fieldsWithIssues = parsed.error?.issues.map((i) => i.path.join('.'))
    expect(fieldsWithIssues).toContain('offer.cta.url')
    expect(fieldsWithIssues).toContain('conditions.conditions.0.value')
  })

  it('adds and removes conditions and filters', () => {
    const draft = draftFromForm([['conditions.kind', 'all']])
    expect(applyAction(draft, 'add:conditions:count')).toBe('conditions.conditions.0.kind')
    expect(applyAction(draft, 'add:conditions:not')).toBe('conditions.conditions.1.kind')
    applyAction(draft, 'add-where:conditions.conditions.0')
    expect(textAt(draft, 'conditions.conditions.0.where.0.field')).toBe('category')
    expect(applyAction(draft, 'remove:conditions.conditions.0')).toBe('conditions.kind')
    expect(textAt(draft, 'conditions.conditions.0.kind')).toBe('not')
  })
})
