/**
 * @module Staff password hashing with scrypt (node:crypto, no native addon): `scrypt$N$salt$hash`,
 * so the cost can be raised later and old hashes still verify. Comparison is constant-time.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

/** The fewest characters a staff password may have, however it is set (CLI, API, console). */
export const MIN_PASSWORD_LENGTH = 10

/** The longest password sign-in reads, so a longer one could never be used. */
export const MAX_PASSWORD_LENGTH = 1024

/** scrypt cost (N): ~50 ms per hash on a 2-core VM, enough to slow guessing, not logins. */
const COST = 16_384
const KEY_LENGTH = 32

function derive(password: string, salt: Buffer, cost: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, { N: cost, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  )
}

/** @example const stored = await hashPassword('correct horse battery staple') */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, COST)
  return `scrypt$${COST}$${salt.toString('hex')}$${key.toString('hex')}`
}

/** False for a wrong password or a malformed stored hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, cost, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || !cost || !salt || !hash) {
    return false
  }
  const expected = Buffer.from(hash, 'hex')
  const actual = await derive(password, Buffer.from(salt, 'hex'), Number(cost))
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}
