/**
 * @module The offer-rule model: what marketing staff write (through the console or the admin
 * API), what the workers compile and evaluate on every event, and what GET /v1/schemas/rule
 * serves as JSON Schema. One zod schema, so the API's 400s, the workers' types and the
 * published schema never disagree.
 *
 * Every error message is written for a marketer, not a programmer: it says what is wrong and
 * what is expected, in words (the admin API returns them with the field's path).
 *
 * Limits: 50 conditions per rule, groups nested 4 deep, 20 items per `in` list, windows and
 * delays up to 30 days. Text comparisons ignore case ("shoes" matches "Shoes").
 */
import { z } from 'zod'
import { parseDuration } from '../runtime/duration'
import { LIMITS } from './envelope'
import { EVENT_TYPES, type EventType } from './events'
import { httpUrl } from './offers'

export const RULE_LIMITS = {
  conditions: 50,
  depth: 4,
  groupItems: 20,
  listItems: 20,
  maxWindowMs: 30 * 86_400_000,
} as const

export const RULE_STATUSES = ['draft', 'active', 'paused', 'archived'] as const
export type RuleStatus = (typeof RULE_STATUSES)[number]

const eventType = z.enum(EVENT_TYPES as [EventType, ...EventType[]], {
  error: `expected one of the event types: ${EVENT_TYPES.join(', ')}`,
})

/** "10m", "24h", "7d" (or milliseconds), at most 30 days; stored as milliseconds. */
export const ruleDuration = z
  .union([z.string(), z.number()], { error: 'expected a duration such as "10m", "2h" or "7d"' })
  .transform((raw, ctx) => {
    const ms = typeof raw === 'number' ? raw : parseDuration(raw)
    if (ms === undefined || !Number.isFinite(ms) || ms <= 0 || ms > RULE_LIMITS.maxWindowMs) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected a duration between 1ms and 30d, such as "10m", "2h" or "7d"',
      })
      return z.NEVER
    }
    return Math.round(ms)
  })

const scalar = z.union([z.string().max(LIMITS.textLength), z.number(), z.boolean()])

/**
 * Comparison operators. `eq`/`ne`/`in`/`contains`/`startsWith` compare text without case;
 * `gt`..`lte` need numbers; `exists` ignores the value.
 */
export const OPERATORS = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'contains',
  'startsWith',
  'exists',
] as const
export type Operator = (typeof OPERATORS)[number]

const comparison = {
  op: z.enum(OPERATORS, { error: `expected one of the operators: ${OPERATORS.join(', ')}` }),
  value: z
    .union([scalar, z.array(scalar).max(RULE_LIMITS.listItems)])
    .optional()
    .describe('Compared with the fact; a list for `in`, nothing for `exists`.'),
}

const NUMERIC_OPS = new Set(['gt', 'gte', 'lt', 'lte'])

/**
 * What makes a comparison able to pass at all: a rule that saves but can never fire is the
 * worst kind of mistake for the person who wrote it.
 */
function checkComparison(c: { op: Operator; value?: unknown }, ctx: z.RefinementCtx): void {
  const say = (message: string) => ctx.addIssue({ code: 'custom', path: ['value'], message })
  if (c.op === 'exists') {
    return
  }
  if (c.value === undefined) {
    say(`"${c.op}" needs a value to compare with`)
  } else if (NUMERIC_OPS.has(c.op) && typeof c.value !== 'number') {
    say(`"${c.op}" compares numbers: expected a number such as 200`)
  } else if (c.op === 'in' && !Array.isArray(c.value)) {
    say('"in" needs a list of values')
  } else if (c.op !== 'in' && Array.isArray(c.value)) {
    say(`a list of values only works with "in", not "${c.op}"`)
  }
}

const numeric = {
  op: z.enum(['eq', 'ne', 'gt', 'gte', 'lt', 'lte'], {
    error: 'expected one of: eq, ne, gt, gte, lt, lte',
  }),
  value: z.number({ error: 'expected a number' }),
}

/** Fields of the recent-event list (streams/profile.ts recentEvent) a count can filter on. */
export const RECENT_FIELDS = ['item', 'category', 'price', 'url', 'name'] as const

/** A property of the triggering event: `price`, `category`, `products.0.productId`, `orderId`. */
const eventCondition = z
  .object({
    kind: z.literal('event'),
    field: z
      .string()
      .regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+){0,3}$/, 'expected a property name such as "price"'),
    ...comparison,
  })
  .describe('A property of the event that triggered the rule.')
  .superRefine(checkComparison)

export const PROFILE_FACTS = [
  'engagement',
  'purchases',
  'events',
  'interest',
  'daysSinceFirstSeen',
  'minutesSinceLastSeen',
  'returning',
] as const

const profileCondition = z
  .object({
    kind: z.literal('profile'),
    fact: z.enum(PROFILE_FACTS, { error: `expected one of: ${PROFILE_FACTS.join(', ')}` }),
    /** For `interest`: the category. */
    category: z.string().min(1).max(LIMITS.nameLength).optional(),
    /** For `events`: count only this type (all types when absent). */
    eventType: eventType.optional(),
    ...comparison,
  })
  .describe(
    'A fact of the shopper’s live profile. `returning` is true when the shopper was first seen more than 30 minutes before this event.',
  )
  .refine((c) => c.fact !== 'interest' || c.category !== undefined, {
    message: 'an interest condition needs the category it is about',
    path: ['category'],
  })
  .superRefine((c, ctx) => {
    if (c.fact === 'returning' && typeof c.value !== 'boolean' && c.op !== 'exists') {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: '"returning" is true or false',
      })
      return
    }
    checkComparison(c, ctx)
  })

const countCondition = z
  .object({
    kind: z.literal('count'),
    event: eventType,
    where: z
      .array(
        z
          .object({
            field: z.enum(RECENT_FIELDS, { error: `expected one of: ${RECENT_FIELDS.join(', ')}` }),
            ...comparison,
          })
          .superRefine(checkComparison),
      )
      .max(5)
      .default([]),
    /** A rolling window, or `today` (since midnight in the site’s time zone). */
    within: z.union([z.literal('today'), ruleDuration]),
    ...numeric,
  })
  .describe(
    'How many of the shopper’s recent events (the last 50) match, within a window. The triggering event counts.',
  )

const pageCondition = z
  .object({
    kind: z.literal('page'),
    op: z.enum(['eq', 'startsWith', 'contains', 'matches'], {
      error: 'expected one of: eq, startsWith, contains, matches',
    }),
    /** A path (`/products/`) or, for `matches`, a pattern where `*` stands for any text. */
    value: z.string().min(1).max(LIMITS.urlLength),
  })
  .describe('The path of the page the triggering event came from (its context.url).')

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const

const timeCondition = z
  .object({
    kind: z.literal('time'),
    /** Hours of the day, from (inclusive) to (exclusive); to < from wraps past midnight. */
    hours: z
      .object({ from: z.number().int().min(0).max(23), to: z.number().int().min(0).max(24) })
      .optional(),
    days: z
      .array(z.enum(WEEKDAYS, { error: 'expected mon … sun' }))
      .max(7)
      .optional(),
  })
  .describe('The time of the triggering event in the site’s time zone.')
  .refine((c) => c.hours !== undefined || c.days !== undefined, {
    message: 'a time condition needs hours, days or both',
  })

export type LeafCondition =
  | z.infer<typeof eventCondition>
  | z.infer<typeof profileCondition>
  | z.infer<typeof countCondition>
  | z.infer<typeof pageCondition>
  | z.infer<typeof timeCondition>

/**
 * A condition: a leaf, or a group. Groups are `{kind: 'all'|'any', conditions: [...]}` and
 * `{kind: 'not', condition}`, so every node is told apart by `kind` and a mistake deep in a
 * tree gets an error at its own path (a plain union could only say "invalid input").
 */
export type Condition =
  | LeafCondition
  | { kind: 'all' | 'any'; conditions: Condition[] }
  | { kind: 'not'; condition: Condition }

const group = (kind: 'all' | 'any') =>
  z.object({
    kind: z.literal(kind),
    get conditions() {
      return z.array(condition).max(RULE_LIMITS.groupItems, {
        message: `a group can hold at most ${RULE_LIMITS.groupItems} conditions`,
      })
    },
  })

export const condition: z.ZodType<Condition> = z.discriminatedUnion(
  'kind',
  [
    eventCondition,
    profileCondition,
    countCondition,
    pageCondition,
    timeCondition,
    group('all'),
    group('any'),
    z.object({
      kind: z.literal('not'),
      get condition() {
        return condition
      },
    }),
  ],
  {
    error:
      'expected a condition whose kind is one of: event, profile, count, page, time, all, any, not',
  },
)

function shape(c: Condition, depth: number): { leaves: number; depth: number } {
  if (c.kind === 'all' || c.kind === 'any') {
    return c.conditions.reduce(
      (acc, item) => {
        const s = shape(item, depth + 1)
        return { leaves: acc.leaves + s.leaves, depth: Math.max(acc.depth, s.depth) }
      },
      { leaves: 0, depth },
    )
  }
  if (c.kind === 'not') {
    return shape(c.condition, depth + 1)
  }
  return { leaves: 1, depth }
}

export const RECOMMENDATION_SOURCES = ['personal', 'trending', 'similar'] as const

export const offerContent = z.object({
  title: z
    .string()
    .min(1, 'the title cannot be empty')
    .max(120, 'keep the title to 120 characters'),
  body: z.string().max(500, 'keep the text to 500 characters').default(''),
  cta: z.object({
    label: z.string().min(1, 'the button needs a label').max(40, 'keep the label to 40 characters'),
    url: httpUrl,
  }),
  code: z.string().max(40, 'keep the code to 40 characters').optional(),
  imageUrl: httpUrl.optional(),
  /** Filled at decision time with the shopper's recommendations. */
  recommendations: z
    .object({
      source: z.enum(RECOMMENDATION_SOURCES, {
        error: 'expected personal, trending or similar',
      }),
      count: z.number().int().min(1).max(12),
    })
    .optional(),
  /** How long the offer stays valid once decided (default a day). */
  expiresIn: ruleDuration.default(86_400_000),
})
export type OfferContent = z.infer<typeof offerContent>

const percent = z
  .number({ error: 'expected a percentage from 0 to 100' })
  .min(0, 'expected a percentage from 0 to 100')
  .max(100, 'expected a percentage from 0 to 100')

const instant = z.iso.datetime({
  offset: true,
  error: 'expected a date and time such as 2026-12-01T00:00:00Z',
})

/** What staff send to create or change a rule (everything but status, which has its own routes). */
export const ruleInput = z
  .object({
    name: z
      .string()
      .trim()
      .min(1, 'the rule needs a name')
      .max(120, 'keep the name to 120 characters'),
    priority: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .default(100)
      .describe('Higher wins when several rules pass.'),
    trigger: z.object({
      event: eventType,
      /** Wait this long after the trigger before deciding. */
      delay: ruleDuration.optional(),
      /** An event that cancels the delayed trigger when it arrives during the delay. */
      unless: eventType.optional(),
    }),
    conditions: condition.default({ kind: 'all', conditions: [] }),
    offer: offerContent,
    caps: z
      .object({
        /** At most `count` offers of this rule to one shopper in any rolling `period`. */
        perShopper: z
          .object({ count: z.number().int().min(1).max(1000), period: ruleDuration })
          .optional(),
        /**
         * This rule sends nothing to a shopper who got any offer (of any rule) within this time;
         * lower-priority rules are still considered.
         */
        cooldown: ruleDuration.optional(),
        /** Offers of this rule across all shoppers, ever. */
        budget: z.number().int().min(1).max(100_000_000).optional(),
      })
      .default({}),
    audiencePercent: percent.default(100),
    holdoutPercent: percent.default(0),
    schedule: z.object({ start: instant.optional(), end: instant.optional() }).default({}),
  })
  .superRefine((rule, ctx) => {
    const { leaves, depth } = shape(rule.conditions, 1)
    if (leaves > RULE_LIMITS.conditions) {
      ctx.addIssue({
        code: 'custom',
        path: ['conditions'],
        message: `a rule can have at most ${RULE_LIMITS.conditions} conditions; this one has ${leaves}`,
      })
    }
    if (depth > RULE_LIMITS.depth + 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['conditions'],
        message: `condition groups can be nested at most ${RULE_LIMITS.depth} deep`,
      })
    }
    if (rule.trigger.unless !== undefined && rule.trigger.delay === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['trigger', 'unless'],
        message: '"unless" only works with a delay: say how long to wait for it',
      })
    }
    const { start, end } = rule.schedule
    if (start !== undefined && end !== undefined && Date.parse(end) <= Date.parse(start)) {
      ctx.addIssue({
        code: 'custom',
        path: ['schedule', 'end'],
        message: 'the end must be after the start',
      })
    }
    if (rule.holdoutPercent === 100) {
      ctx.addIssue({
        code: 'custom',
        path: ['holdoutPercent'],
        message: 'a holdout of 100% would never show the offer to anyone',
      })
    }
  })
export type RuleInput = z.input<typeof ruleInput>
export type RuleSpec = z.output<typeof ruleInput>

/** A rule version as the workers load it: the spec plus identity and status. */
export type LoadedRule = RuleSpec & {
  id: string
  siteId: string
  version: number
  status: RuleStatus
}

/** The rule model as JSON Schema (what clients validate with before sending). */
export function ruleJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ruleInput, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >
}

/**
 * A zod error as a list of `{field, reason}` in the admin API's words: `trigger.event`,
 * `conditions.all.0.value`.
 */
export function ruleIssues(error: z.ZodError): { field: string; reason: string }[] {
  return error.issues.map((issue) => ({
    field: issue.path.join('.') || '(rule)',
    reason: issue.message,
  }))
}
