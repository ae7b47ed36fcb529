/**
 * @module How many wrong passwords staff sign-in accepts within a sliding LOGIN_LIMITS.windowMs:
 * LOGIN_LIMITS.perEmail per email from one client address, perEmailEverywhere per email from all
 * addresses together, and perIp per address whatever the emails; kept in Redis so every api
 * process shares them; then 429 with Retry-After. Counting an email per address first means a
 * stranger's wrong passwords from elsewhere do not lock the member out; the looser count over
 * all addresses still slows guessing spread over many. A successful sign-in forgets the email's
 * failures and does not count against the address. A wrong current password on a password
 * change counts as a failed attempt of that email too.
 *
 * Each attempt is taken (take-attempt-3.lua) before the password is checked, so a burst of
 * parallel guesses cannot all pass before the first failure is counted, and refusals cost no
 * scrypt work. Unknown emails are counted exactly like known ones, so a 429 tells nothing about
 * who has an account.
 *
 * When Redis does not answer, the limit fails closed: sign-in (and a password change, which
 * checks the current password the same way) answers a fast 503 with Retry-After, before any
 * scrypt work. Going on without the limit would hand unlimited guesses to whoever can make
 * Redis unreachable. Staff already signed in keep their sessions (PostgreSQL) and API tokens, so
 * the console's Health page still says what is wrong.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import type { Context } from 'hono'
import type { Redis } from 'ioredis'
import { createKeys } from '../../streams/keys'
import type { HonoEnv } from '../context'
import { ApiError } from '../errors'
import { clientIp } from '../ingest'

const TAKE_ATTEMPT_LUA = readFileSync(
  new URL('./scripts/take-attempt-3.lua', import.meta.url),
  'utf8',
)

/** The sign-in limits (README "Admin API"). */
export const LOGIN_LIMITS = {
  /** The sliding window failed attempts are counted in. */
  windowMs: 15 * 60_000,
  /** Failed attempts per email from one client address within the window. */
  perEmail: 10,
  /**
   * Failed attempts per email from all addresses together: slows guessing spread over many
   * addresses, while a stranger's 10 wrong passwords from elsewhere do not lock the member out.
   */
  perEmailEverywhere: 100,
  /** Failed attempts per client address (any emails) within the window. */
  perIp: 50,
} as const

/** The sign-in limit's keys (streams/keys.ts), by email and by client IP. */
export function loginKeys(prefix: string) {
  const keys = createKeys(prefix)
  const hash = (email: string) =>
    createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 32)
  return {
    email: (email: string) => keys.loginEmail(hash(email)),
    emailFrom: (email: string, ip: string) => keys.loginEmailFrom(hash(email), ipBucket(ip)),
    ip: (ip: string) => keys.loginIp(ipBucket(ip)),
  }
}

/**
 * The bucket an address counts in: an IPv4 address itself, an IPv6 address by its /64 (one
 * host usually holds a whole /64 and could otherwise take a fresh address per guess).
 */
export function ipBucket(ip: string): string {
  // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d: it is an IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1]
  if (mapped !== undefined || isIP(ip) !== 6) {
    return (mapped ?? ip).slice(0, 64)
  }
  const [head = '', tail = ''] = ip.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === '' ? [] : tail.split(':')
  const groups = ip.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left
  return `${groups
    .slice(0, 4)
    .map((g) => (Number.parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`
}

/** One attempt taken: pass it back on success. */
export type Attempt = { email: string; ip: string; id: string }

export type TakeResult =
  | { ok: true; attempt: Attempt }
  | { ok: false; retryAfterMs: number; over: 'email' | 'ip' }

export type LoginLimiter = {
  /** Takes one attempt for both the email and the IP, or neither when one is at its limit. */
  take(email: string, ip: string, now?: number): Promise<TakeResult>
  /** The attempt succeeded: forget the email's failures and give the IP its attempt back. */
  succeeded(attempt: Attempt): Promise<void>
}

type TakeClient = Redis & {
  nudgeTakeAttempt(...keysAndArgs: (number | string)[]): Promise<[number, number, number]>
}

/**
 * A limiter on `redis` under `prefix` (NUDGE_KEY_PREFIX). Cheap to make per request: the script
 * is defined once per client.
 * @example const limiter = createLoginLimiter(redis, config.NUDGE_KEY_PREFIX)
 */
export function createLoginLimiter(redis: Redis, prefix: string): LoginLimiter {
  const client = redis as TakeClient
  if (typeof client.nudgeTakeAttempt !== 'function') {
    redis.defineCommand('nudgeTakeAttempt', { numberOfKeys: 3, lua: TAKE_ATTEMPT_LUA })
  }
  const keys = loginKeys(prefix)
  return {
    async take(email, ip, now = Date.now()) {
      const id = `${now}-${randomBytes(6).toString('hex')}`
      const [taken, waitMs, which] = await client.nudgeTakeAttempt(
        keys.emailFrom(email, ip),
        keys.email(email),
        keys.ip(ip),
        now,
        LOGIN_LIMITS.windowMs,
        LOGIN_LIMITS.perEmail,
        LOGIN_LIMITS.perEmailEverywhere,
        LOGIN_LIMITS.perIp,
        id,
      )
      return taken === 1
        ? { ok: true, attempt: { email, ip, id } }
        : { ok: false, retryAfterMs: waitMs, over: which === 3 ? 'ip' : 'email' }
    },
    async succeeded(attempt) {
      await redis
        .multi()
        .del(keys.emailFrom(attempt.email, attempt.ip))
        .del(keys.email(attempt.email))
        .zrem(keys.ip(attempt.ip), attempt.id)
        .exec()
    },
  }
}

/** "3 minutes", "1 minute", "40 seconds": a wait in plain words. */
function inWords(ms: number): string {
  const minutes = Math.ceil(ms / 60_000)
  if (ms >= 60_000) {
    return minutes === 1 ? '1 minute' : `${minutes} minutes`
  }
  const seconds = Math.max(1, Math.ceil(ms / 1000))
  return seconds === 1 ? '1 second' : `${seconds} seconds`
}

/**
 * Takes a sign-in attempt for `email` from the caller's IP, or throws the 429 (with Retry-After)
 * when either is at its limit, or the 503 (Retry-After: 1) when Redis could not be asked — the
 * limit fails closed (see the module note). The request client fails fast (runtime/redis.ts:
 * no offline queue, NUDGE_REDIS_TIMEOUT), so the 503 never waits long.
 * @example const attempt = await takeSignInAttempt(c, input.email)
 */
export async function takeSignInAttempt(c: Context<HonoEnv>, email: string): Promise<Attempt> {
  const { redis, config, logger } = c.get('services')
  let result: TakeResult
  try {
    result = await createLoginLimiter(redis, config.NUDGE_KEY_PREFIX).take(
      email,
      clientIp(c) ?? 'unknown',
    )
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'sign-in limit unavailable (Redis): refused')
    throw new ApiError(
      'UNAVAILABLE',
      'Passwords cannot be checked right now: the limit on wrong passwords is unavailable (Redis does not answer). Please try again in a moment.',
      { retryAfter: 1 },
    )
  }
  if (result.ok) {
    return result.attempt
  }
  const who =
    result.over === 'email'
      ? 'for this email'
      : 'from your network address (several accounts were tried)'
  throw new ApiError(
    'RATE_LIMITED',
    `Too many wrong passwords ${who}. Please wait ${inWords(result.retryAfterMs)} and try again.`,
    { retryAfter: Math.ceil(result.retryAfterMs / 1000) },
  )
}

/**
 * A successful sign-in (or password check): forgets the email's failures. Errors are logged, not
 * raised: the password was right, and a count left behind only errs on the strict side.
 */
export async function signInSucceeded(c: Context<HonoEnv>, attempt: Attempt): Promise<void> {
  const { redis, config, logger } = c.get('services')
  await createLoginLimiter(redis, config.NUDGE_KEY_PREFIX)
    .succeeded(attempt)
    .catch((err: unknown) => logger.warn({ err }, 'could not reset the sign-in limit (Redis)'))
}
