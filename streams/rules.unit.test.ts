import { describe, expect, it } from 'vitest'
import { EXAMPLE_RULES } from '../test/fixtures/rules'
import { ruleInput, ruleIssues, ruleJsonSchema } from './rules'

describe('rule model', () => {
  it.each(Object.entries(EXAMPLE_RULES))('expresses the example %s as data', (_, rule) => {
    const parsed = ruleInput.safeParse(rule)
    expect(parsed.error?.issues ?? []).toEqual([])
  })

  it('stores durations as milliseconds and fills defaults', () => {
    const rule = ruleInput.parse(EXAMPLE_RULES.cartReminder)
    expect(rule.trigger.delay).toBe(30 * 60_000)
    expect(rule).toMatchObject({ audiencePercent: 100, holdoutPercent: 0, caps: {} })
    expect(rule.offer.expiresIn).toBe(86_400_000)
    // Output parses again (the workers re-parse what the api stored).
    expect(ruleInput.parse(rule)).toEqual(rule)
  })

  it.each([
    [{ trigger: { event: 'Clicked' } }, 'trigger.event', 'expected one of the event types'],
    [
      {
        offer: {
          ...EXAMPLE_RULES.shoesClicks.offer,
          cta: { label: 'x', url: 'javascript:alert(1)' },
        },
      },
      'offer.cta.url',
      'http:// or https://',
    ],
    [{ name: '  ' }, 'name', 'needs a name'],
    [{ holdoutPercent: 120 }, 'holdoutPercent', 'percentage from 0 to 100'],
    [
      { trigger: { event: 'AddedToCart', unless: 'OrderCompleted' } },
      'trigger.unless',
      'only works with a delay',
    ],
    [{ trigger: { event: 'AddedToCart', delay: '45d' } }, 'trigger.delay', 'between 1ms and 30d'],
    [
      { schedule: { start: '2027-01-01T00:00:00Z', end: '2026-01-01T00:00:00Z' } },
      'schedule.end',
      'after the start',
    ],
    [{ schedule: { start: 'next monday' } }, 'schedule.start', 'date and time'],
    [
      {
        conditions: {
          kind: 'all',
          conditions: [{ kind: 'profile', fact: 'interest', op: 'gt', value: 1 }],
        },
      },
      'conditions.conditions.0.category',
      'needs the category',
    ],
    [
      {
        conditions: {
          kind: 'all',
          conditions: Array.from({ length: 21 }, () => ({ kind: 'page', op: 'eq', value: '/' })),
        },
      },
      'conditions.conditions',
      'at most 20',
    ],
    [
      {
        conditions: {
          kind: 'any',
          conditions: [
            { kind: 'count', event: 'ProductViewed', within: '10m', op: 'gte', value: 'three' },
          ],
        },
      },
      'conditions.conditions.0.value',
      'expected a number',
    ],
    [
      { conditions: { kind: 'any', conditions: [{ kind: 'weather' }] } },
      'conditions.conditions.0',
      'kind is one of',
    ],
    [
      {
        conditions: {
          kind: 'not',
          condition: { kind: 'event', field: 'price', op: 'bigger', value: 3 },
        },
      },
      'conditions.condition.op',
      'expected one of the operators',
    ],
  ])('refuses %j at %s in words', (change, field, words) => {
    const parsed = ruleInput.safeParse({ ...EXAMPLE_RULES.shoesClicks, ...change })
    expect(parsed.success).toBe(false)
    const issues = ruleIssues(parsed.error as never)
    const hit = issues.find((i) => i.field.startsWith(field))
    expect(hit, JSON.stringify(issues)).toBeDefined()
    expect(hit?.reason).toContain(words)
  })

  it.each([
    [{ kind: 'event', field: 'price', op: 'gt', value: '200' }, 'compares numbers'],
    [{ kind: 'event', field: 'price', op: 'eq' }, 'needs a value'],
    [{ kind: 'event', field: 'category', op: 'in', value: 'shoes' }, 'needs a list'],
    [{ kind: 'event', field: 'category', op: 'eq', value: ['a', 'b'] }, 'only works with "in"'],
    [{ kind: 'profile', fact: 'returning', op: 'eq', value: 'true' }, 'true or false'],
    [
      {
        kind: 'count',
        event: 'ProductViewed',
        where: [{ field: 'price', op: 'gt', value: 'x' }],
        within: '1h',
        op: 'gte',
        value: 1,
      },
      'compares numbers',
    ],
  ])('refuses a condition that could never pass: %j', (leaf, words) => {
    const parsed = ruleInput.safeParse({
      ...EXAMPLE_RULES.shoesClicks,
      conditions: { kind: 'all', conditions: [leaf] },
    })
    expect(parsed.success).toBe(false)
    const issues = ruleIssues(parsed.error as never)
    expect(issues.map((i) => i.reason).join('; ')).toContain(words)
    expect(issues[0]?.field).toMatch(/^conditions\.conditions\.0\./)
  })

  it('is served as JSON Schema', () => {
    const schema = ruleJsonSchema()
    expect(schema).toMatchObject({ type: 'object' })
    expect(JSON.stringify(schema)).toContain('holdoutPercent')
  })
})
