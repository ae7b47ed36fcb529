/** @module Human durations ("500ms", "30s", "10m", "24h", "7d") for configuration. */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/**
 * Parses a duration into milliseconds, or returns undefined when the text is not one.
 * @example parseDuration('7d') // 604800000
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim())
  if (!match) {
    return undefined
  }
  const [, amount, unit] = match as unknown as [string, string, keyof typeof UNIT_MS]
  return Math.round(Number(amount) * UNIT_MS[unit])
}
