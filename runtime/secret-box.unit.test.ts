import { describe, expect, it } from 'vitest'
import { createSecretBox } from './secret-box'
import { deriveServerKeys } from './secret-key'

describe('secret box', () => {
  const keys = deriveServerKeys(Buffer.alloc(32, 1))
  const box = createSecretBox(keys.seal)

  it('opens what it sealed, for the same context only', () => {
    const sealed = box.seal('sk_secret', 'sit_1')
    expect(sealed).toMatch(/^v1\./)
    expect(sealed).not.toContain('sk_secret')
    expect(box.open(sealed, 'sit_1')).toBe('sk_secret')
    expect(() => box.open(sealed, 'sit_2')).toThrow(/does not open/)
  })

  it('refuses another key, tampering and other formats', () => {
    const sealed = box.seal('sk_secret', 'sit_1')
    const other = createSecretBox(deriveServerKeys(Buffer.alloc(32, 2)).seal)
    expect(() => other.open(sealed, 'sit_1')).toThrow(/another NUDGE_SECRET_KEY/)
    const parts = sealed.split('.')
    parts[2] = Buffer.from('sk_secreu').toString('base64url')
    expect(() => box.open(parts.join('.'), 'sit_1')).toThrow()
    expect(() => box.open('plain', 'sit_1')).toThrow(/format/)
  })

  it('derives different keys per purpose', () => {
    expect(Buffer.from(keys.token).equals(keys.seal)).toBe(false)
  })
})
