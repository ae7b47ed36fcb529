import { describe, expect, it } from 'vitest'
import { createTtlCache } from './recommendations-cache'

describe('createTtlCache', () => {
  it('forgets entries after their time to live', () => {
    const cache = createTtlCache<number>({ ttlMs: 100, maxEntries: 10 })
    cache.set('a', 1, 0)
    expect(cache.get('a', 99)).toBe(1)
    expect(cache.get('a', 100)).toBeUndefined()
  })

  it('keeps at most maxEntries, dropping the least recently set', () => {
    const cache = createTtlCache<number>({ ttlMs: 1_000, maxEntries: 2 })
    cache.set('a', 1, 0)
    cache.set('b', 2, 0)
    cache.set('a', 3, 1)
    cache.set('c', 4, 2)
    expect(cache.get('b', 3)).toBeUndefined()
    expect(cache.get('a', 3)).toBe(3)
    expect(cache.get('c', 3)).toBe(4)
  })
})
