/**
 * @module Sealing small secrets at rest (site secrets in PostgreSQL) with AES-256-GCM, so the
 * api can compute HMAC(site secret, userId) without the database holding the secret in clear.
 *
 * Format (text, storable in a column): `v1.<iv>.<ciphertext>.<tag>`, each part base64url; the
 * IV is 12 random bytes per seal. The `context` (the site id) is authenticated but not stored:
 * a sealed value copied to another site's row does not open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

export type SecretBox = {
  /** Encrypts `plain` bound to `context`. */
  seal(plain: string, context: string): string
  /** Decrypts, or throws when the value was altered, sealed under another key or context. */
  open(sealed: string, context: string): string
}

/**
 * @example const box = createSecretBox(keys.seal); box.open(box.seal('sk_…', 'sit_1'), 'sit_1')
 */
export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) {
    throw new TypeError(`a secret box needs a 32-byte key, got ${key.length} bytes`)
  }
  return {
    seal(plain, context) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(Buffer.from(context))
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      const parts = [iv, data, cipher.getAuthTag()].map((b) => b.toString('base64url'))
      return `v1.${parts.join('.')}`
    },
    open(sealed, context) {
      const [version, iv, data, tag] = sealed.split('.')
      if (version !== 'v1' || iv === undefined || data === undefined || tag === undefined) {
        throw new Error('sealed secret is not in the v1.<iv>.<data>.<tag> format')
      }
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
      decipher.setAAD(Buffer.from(context))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      try {
        return Buffer.concat([
          decipher.update(Buffer.from(data, 'base64url')),
          decipher.final(),
        ]).toString('utf8')
      } catch {
        throw new Error(
          'sealed secret does not open: it was sealed under another NUDGE_SECRET_KEY or altered',
        )
      }
    },
  }
}
