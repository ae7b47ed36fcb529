import { describe, expect, it } from 'vitest'
import { partitionOf, profileKey } from './partition'

describe('partitioning', () => {
  it('is stable across processes and versions (pinned values)', () => {
    // FNV-1a 32-bit reference values: a change here moves every shopper to another stream.
    expect(partitionOf('', 1 << 30)).toBe(0x811c9dc5 % (1 << 30))
    expect(partitionOf('a', 2 ** 32 - 1)).toBe(0xe40c292c % (2 ** 32 - 1))
    expect(partitionOf('sit_1:a:abc', 8)).toBe(partitionOf('sit_1:a:abc', 8))
  })

  it('spreads keys evenly enough', () => {
    const counts = new Array(8).fill(0)
    for (let i = 0; i < 80_000; i++) {
      counts[partitionOf(`sit_x:a:anon-${i}`, 8)] += 1
    }
    for (const count of counts) {
      expect(count).toBeGreaterThan(9_000)
      expect(count).toBeLessThan(11_000)
    }
  })

  it('keys a profile by proven user, else anonymous id, else claimed user', () => {
    expect(profileKey('s', { userId: 'u', anonymousId: 'a', verified: true })).toBe('s:u:u')
    expect(profileKey('s', { userId: 'u', anonymousId: 'a', verified: false })).toBe('s:a:a')
    expect(profileKey('s', { userId: 'u', verified: false })).toBe('s:c:u')
  })
})
