/** @module Polling for an eventual state in end-to-end tests, bounded in time. */

/**
 * Reads until `ok` holds or `timeoutMs` passes, and returns the last value read either way, so
 * the caller's assertion shows what was there.
 * @example const profile = await until(() => redis.hgetall(key), (p) => p.n === '2')
 */
export async function until<T>(
  read: () => T | Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (ok(value) || Date.now() > deadline) {
      return value
    }
    await new Promise((r) => setTimeout(r, 5))
  }
}
