/**
 * @module Local time of an instant in a time zone, fast enough to ask per event: the zone's UTC
 * offset is cached per quarter hour (zones change offset only on those), so `Intl` runs once
 * per zone and quarter hour instead of once per event. Rule conditions on time of day and
 * "today" windows use it.
 */

const zoneFormats = new Map<string, Intl.DateTimeFormat>()

/** Hour (0-23) and weekday (mon…sun) of `ts` in a time zone. */
export function localTime(
  ts: number,
  timezone: string,
): { hour: number; day: string; midnight: number } {
  // Rules evaluated on one event ask for the same instant many times; formatToParts is slow.
  if (lastTime && lastTime.ts === ts && lastTime.timezone === timezone) {
    return lastTime.value
  }
  const value = computeLocalTime(ts, timezone)
  lastTime = { ts, timezone, value }
  return value
}

let lastTime: { ts: number; timezone: string; value: LocalTime } | undefined

export type LocalTime = { hour: number; day: string; midnight: number }

const WEEK = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
const QUARTER_HOUR = 15 * 60_000
const DAY = 86_400_000

/**
 * The zone's UTC offset, cached per quarter hour of UTC (zones change offset only on those),
 * up to 4,096 quarter hours per zone: live traffic hits one, a backfill a few thousand.
 */
const offsets = new Map<string, Map<number, number>>()

function offsetOf(ts: number, timezone: string): number {
  const bucket = Math.floor(ts / QUARTER_HOUR)
  let zone = offsets.get(timezone)
  if (!zone) {
    zone = new Map()
    offsets.set(timezone, zone)
  }
  const cached = zone.get(bucket)
  if (cached !== undefined) {
    return cached
  }
  if (zone.size >= 4096) {
    zone.clear()
  }
  let format = zoneFormats.get(timezone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
    zoneFormats.set(timezone, format)
  }
  const at = bucket * QUARTER_HOUR
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, Number(p.value)]))
  const wall = Date.UTC(
    parts.year as number,
    (parts.month as number) - 1,
    parts.day as number,
    parts.hour as number,
    parts.minute as number,
    parts.second as number,
  )
  const offset = wall - at
  zone.set(bucket, offset)
  return offset
}

/**
 * Local hour, weekday and the instant of local midnight. On the two days a year a zone changes
 * its offset, "midnight" is computed with the current offset, so it can be an hour off.
 */
function computeLocalTime(ts: number, timezone: string): LocalTime {
  const local = ts + offsetOf(ts, timezone)
  const sinceMidnight = ((local % DAY) + DAY) % DAY
  const days = Math.floor(local / DAY)
  return {
    hour: Math.floor(sinceMidnight / 3_600_000),
    // 1970-01-01 was a Thursday.
    day: WEEK[(((days + 4) % 7) + 7) % 7] as string,
    midnight: ts - sinceMidnight,
  }
}
