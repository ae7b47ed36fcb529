/**
 * @module The live profile as stored in Redis: field names, the recent-event entry and the
 * decay every reader applies. Workers write it (workers/scripts/apply-events-7.lua, which cannot
 * import this file and so repeats the names in its header); the api reads it. Renaming a field
 * here without migrating stored profiles makes every existing profile read as empty.
 */
import { z } from 'zod'
import { EVENT_TYPES, type EventType } from './events'

/**
 * Half-life of the engagement score and of category interests: a week keeps last month's
 * shopper recognisable without letting a year-old order dominate. Writers decay with it and
 * readers decay to "now" with it, so both sides must use this one constant.
 */
export const PROFILE_HALF_LIFE_MS = 7 * 24 * 3_600_000

/**
 * Fields of the `profile:{u}` hash. A decayed sum is stored as the value at a reference time
 * plus that time under the field name + `@` (`score` and `score@`).
 */
export const PROFILE_FIELDS = {
  /** Events applied, all types. */
  count: 'n',
  /** Epoch ms of the earliest and latest event (by event time). */
  first: 'first',
  last: 'last',
  /** Decayed engagement score. */
  score: 'score',
  /** Order lines bought, all time. */
  purchases: 'purchases',
} as const

/** The hash field counting events of one type: `n:ProductViewed`. */
export function countField(type: EventType): string {
  return `n:${type}`
}

/** The field holding the reference time of a decayed value: `score@`, `Shoes@`. */
export function refField(field: string): string {
  return `${field}@`
}

/**
 * One entry of `profile:{u}:recent` (a sorted set of these as JSON, scored by event time,
 * capped). What rule conditions and recommendations look back on.
 */
export const recentEvent = z.object({
  id: z.string(),
  type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]),
  ts: z.number(),
  item: z.string().optional(),
  category: z.string().optional(),
  price: z.number().optional(),
  url: z.string().optional(),
  name: z.string().optional(),
})
export type RecentEvent = z.infer<typeof recentEvent>

/**
 * The value at `now` of a decayed sum stored as (value at `ref`, ref). Also correct for
 * `now < ref` (the value grows back), which replayed old events rely on.
 * @example decayedValue(10, ref, ref + PROFILE_HALF_LIFE_MS, PROFILE_HALF_LIFE_MS) // 5
 */
export function decayedValue(value: number, ref: number, now: number, halfLifeMs: number): number {
  return value * 2 ** (-(now - ref) / halfLifeMs)
}

/**
 * Reads a decayed hash (`<name>` → value, `<name>@` → ref) as name → value at `now`, skipping
 * fields that do not parse.
 * @example decayedFields({ Shoes: '4', 'Shoes@': String(t) }, t, PROFILE_HALF_LIFE_MS) // { Shoes: 4 }
 */
export function decayedFields(
  hash: Record<string, string>,
  now: number,
  halfLifeMs: number,
): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [field, raw] of Object.entries(hash)) {
    if (field.endsWith('@')) {
      continue
    }
    const value = Number(raw)
    const ref = Number(hash[refField(field)])
    if (Number.isFinite(value) && Number.isFinite(ref)) {
      out[field] = decayedValue(value, ref, now, halfLifeMs)
    }
  }
  return out
}
