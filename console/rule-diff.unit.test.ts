import { describe, expect, it } from 'vitest'
import { formatDuration, formatLift, formatRate, fromLocalInput, toLocalInput } from './format'
import { diffRules, labelOf } from './rule-diff'

describe('rule diff', () => {
  it('names paths in words, counting from 1 and leaving group lists implied', () => {
    expect(labelOf('offer.cta.url')).toBe('Offer › button › address')
    expect(labelOf('conditions.conditions.1.condition.within')).toBe(
      'Conditions › #2 › not › within',
    )
    expect(labelOf('conditions.conditions.0.conditions.2.value')).toBe(
      'Conditions › #1 › #3 › value',
    )
  })

  it('lists each changed, added and dropped setting once, in the editor’s order', () => {
    const before = { offer: { title: 'A' }, name: 'R', caps: { cooldown: 600_000 } }
    const after = { name: 'R', offer: { title: 'B', code: 'X' }, caps: {} }
    expect(diffRules(before, after)).toEqual([
      { path: 'offer.title', label: 'Offer › title', before: 'A', after: 'B' },
      { path: 'offer.code', label: 'Offer › code', before: undefined, after: 'X' },
      { path: 'caps', label: 'Limits', before: undefined, after: '{}' },
      { path: 'caps.cooldown', label: 'Limits › cooldown', before: '10m' },
    ])
  })
})

describe('formats', () => {
  it('writes durations, rates and lifts for people', () => {
    expect(formatDuration(600_000)).toBe('10m')
    expect(formatDuration(86_400_000)).toBe('1d')
    expect(formatDuration(90_000)).toBe('90s')
    expect(formatDuration(1500)).toBe('1500ms')
    expect(formatRate(0.125)).toBe('12.5%')
    expect(formatRate(null)).toBe('–')
    expect(formatLift(1)).toBe('+100.0%')
    expect(formatLift(-0.25)).toBe('−25.0%')
  })

  it('reads datetime-local values as UTC and back', () => {
    expect(fromLocalInput('2026-12-01T08:30')).toBe('2026-12-01T08:30:00Z')
    expect(toLocalInput('2026-12-01T08:30:00Z')).toBe('2026-12-01T08:30')
    expect(fromLocalInput('tomorrow')).toBe('tomorrow')
  })
})
