/**
 * @module Prefixed, time-sortable ids (`sit_…`, `ofr_…`) and random keys. One prefix table, so
 * an id says what it names. Ids are 48 bits of milliseconds then 80 random bits, base32-ish
 * (Crockford alphabet), so they sort by creation time as plain strings.
 */
import { randomBytes } from 'node:crypto'

const PREFIXES = {
  site: 'sit',
  rule: 'rul',
  offer: 'ofr',
  request: 'req',
  event: 'evt',
  staff: 'stf',
  session: 'ses',
  token: 'ntk',
  /** Names a staff API token in lists and revocation; the token itself is `ntk_…`. */
  tokenId: 'tok',
} as const

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'

function encode(bytes: Uint8Array): string {
  let out = ''
  let buffer = 0
  let bits = 0
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) {
    out += ALPHABET[(buffer << (5 - bits)) & 31]
  }
  return out
}

/**
 * @example newId('site') // 'sit_01jh3k…'
 */
export function newId(kind: keyof typeof PREFIXES, now = Date.now()): string {
  const bytes = new Uint8Array(16)
  const view = new DataView(bytes.buffer)
  view.setUint16(0, Math.floor(now / 2 ** 32))
  view.setUint32(2, now >>> 0)
  bytes.set(randomBytes(10), 6)
  return `${PREFIXES[kind]}_${encode(bytes)}`
}

/**
 * A random secret-grade token with a readable prefix, e.g. `wk_…` for write keys.
 * @example randomKey('sk', 32)
 */
export function randomKey(prefix: string, bytes: number): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`
}
