/**
 * @module Configuration: every environment variable Nudge reads, parsed once at start by one
 * zod schema. A bad value stops the process with a message naming the variable and what it
 * expects. `.env.example` documents the same variables; keep the two in step.
 */
import { z } from 'zod'
import { parseDuration } from './duration'

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text)
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a duration such as 500ms, 30s, 10m, 24h or 7d, got "${text}"`,
        })
        return z.NEVER
      }
      return ms
    })

const int = (fallback: number, min: number, max: number) =>
  z.coerce
    .number({ error: `expected a whole number from ${min} to ${max}` })
    .int(`expected a whole number from ${min} to ${max}`)
    .min(min, `expected a whole number from ${min} to ${max}`)
    .max(max, `expected a whole number from ${min} to ${max}`)
    .default(fallback)

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes')

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v))

/** Hex (even length) or base64/base64url text → bytes, or undefined when shorter than 32 bytes. */
function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim()
  const bytes = /^(?:[0-9a-fA-F]{2})+$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)
      ? Buffer.from(trimmed, 'base64')
      : undefined
  return bytes && bytes.length >= 32 ? bytes : undefined
}

const envFields = z.object({
  PORT: int(3000, 0, 65535),
  HOST: z.string().min(1).default('0.0.0.0'),
  REDIS_URL: optionalText.pipe(
    z.url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' }).optional(),
  ),
  DATABASE_URL: optionalText.pipe(
    z.url({ protocol: /^postgres(ql)?$/, error: 'expected a postgres:// URL' }).optional(),
  ),
  DATABASE_SCHEMA: optionalText.pipe(
    z
      .string()
      .regex(
        /^[a-z_][a-z0-9_]{0,62}$/,
        'expected lowercase letters, digits and "_" (a PostgreSQL schema name)',
      )
      .optional(),
  ),
  NUDGE_DATA_DIR: z.string().min(1).default('.data'),
  NUDGE_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{0,32}$/, 'expected up to 32 letters, digits, ":", "_" or "-"')
    .default('nudge:'),
  NUDGE_PARTITIONS: int(8, 1, 1024),
  NUDGE_RETENTION: duration('7d'),
  NUDGE_PROFILE_TTL: duration('90d'),
  NUDGE_DEDUP_WINDOW: duration('24h'),
  NUDGE_RATE_SITE: int(20_000, 1, 10_000_000),
  NUDGE_RATE_SITE_BURST: int(100_000, 1, 100_000_000),
  NUDGE_RATE_IP: int(1_000, 1, 10_000_000),
  NUDGE_RATE_IP_BURST: int(10_000, 1, 100_000_000),
  NUDGE_SITE_CACHE_TTL: duration('30s'),
  NUDGE_CLAIM_IDLE: duration('30s'),
  NUDGE_JOB_STALLED: duration('30s'),
  NUDGE_WORKER_CONCURRENCY: int(16, 1, 1000),
  NUDGE_EVENTS_PER_JOB: int(200, 1, 1000),
  NUDGE_ATTRIBUTION_WINDOW: duration('24h'),
  NUDGE_OFFER_MAX_AGE: duration('1h'),
  NUDGE_SESSION_TTL: duration('12h'),
  NUDGE_REDIS_TIMEOUT: duration('800ms'),
  NUDGE_TRUST_PROXY: bool(false),
  NUDGE_PUBLIC_URL: optionalText.pipe(z.url({ error: 'expected an http(s) URL' }).optional()),
  NUDGE_SECRET_KEY: optionalText.pipe(
    z
      .string()
      .transform((text, ctx) => {
        const key = decodeKey(text)
        if (!key) {
          ctx.addIssue({
            code: 'custom',
            message:
              'expected at least 32 random bytes written as hex (64+ characters) or base64 (44+ characters), e.g. from `openssl rand -base64 32`',
          })
          return z.NEVER
        }
        return key
      })
      .optional(),
  ),
  NUDGE_TOKEN_TTL: duration('1h'),
  NUDGE_LIVE_MAX_PER_IP: int(200, 1, 1_000_000),
  NUDGE_LIVE_MAX_PER_PROFILE: int(20, 1, 10_000),
  NUDGE_LIVE_SEND_BUFFER: int(256 * 1024, 1024, 64 * 1024 * 1024),
  NUDGE_LIVE_HEARTBEAT: duration('30s'),
  NUDGE_DEMO_WRITE_KEY: optionalText,
  NUDGE_DEMO_SECRET: optionalText,
  NUDGE_DEMO_PASSWORD: optionalText,
  NUDGE_DEMO: bool(true),
  // Standard OpenTelemetry variables (the exporter reads the other OTEL_EXPORTER_OTLP_* itself).
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalText.pipe(
    z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalText.pipe(
    z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  ),
  OTEL_SERVICE_NAME: optionalText,
  OTEL_SDK_DISABLED: bool(false),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'expected one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
})

const envSchema = envFields.refine((env) => env.NUDGE_PROFILE_TTL >= env.NUDGE_RETENTION, {
  // A profile holds the exactly-once markers of its events: one that expired while the log
  // still holds its events could count one of them again on a redelivery.
  message: 'must be at least NUDGE_RETENTION (a profile must outlive the log entries it counted)',
  path: ['NUDGE_PROFILE_TTL'],
})

/** Everything a role may read from the environment, after parsing. */
export type Config = z.infer<typeof envSchema>

/** Thrown when the environment is not usable; the message names each bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/**
 * Parses the environment once. Throws ConfigError naming every bad variable.
 * @example const config = loadConfig(process.env)
 */
export function loadConfig(env: NodeJS.ProcessEnv | Record<string, string | undefined>): Config {
  const result = envSchema.safeParse(env)
  if (result.success) {
    return result.data
  }
  const lines = result.error.issues.map(
    (issue) => `  ${issue.path.join('.') || '(environment)'}: ${issue.message}`,
  )
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`)
}
