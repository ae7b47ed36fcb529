/**
 * @module How the console writes figures, durations and times for people: "10m" rather than
 * 600000, "12.5%" rather than 0.125, and a dash for a figure that has no data yet.
 */

const UNITS: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
]

/**
 * A duration in milliseconds (as the admin API stores it) in the largest whole unit, the same
 * notation the form accepts back.
 * @example formatDuration(600_000) // "10m"
 */
export function formatDuration(ms: number): string {
  for (const [unit, size] of UNITS) {
    if (ms >= size && ms % size === 0) {
      return `${ms / size}${unit}`
    }
  }
  return `${ms}ms`
}

/** A rate (0..1) as a percentage with one decimal; a dash when there is no data yet. */
export function formatRate(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '–' : `${(rate * 100).toFixed(1)}%`
}

/** A relative lift as "+12.0%" / "−3.0%"; a dash until both groups have data. */
export function formatLift(lift: number | null | undefined): string {
  if (lift === null || lift === undefined) {
    return '–'
  }
  const pct = (lift * 100).toFixed(1)
  return lift >= 0 ? `+${pct}%` : `−${pct.slice(1)}%`
}

/** An ISO time as "2026-11-27 19:10 UTC": staff in several time zones read the same text. */
export function formatTime(iso: string | undefined): string {
  if (!iso) {
    return '–'
  }
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

/** An ISO time as the value of a `datetime-local` input, read as UTC (the form says so). */
export function toLocalInput(iso: string): string {
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(0, 16)
}

/** A `datetime-local` value (read as UTC) back to ISO; other text is passed on for the API to judge. */
export function fromLocalInput(local: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(local) ? `${local}:00Z` : local
}
