import { describe, expect, it } from 'vitest'
import { byteLength, CHUNK_BYTES, CHUNK_EVENTS, chunks } from './transport'

describe('chunks', () => {
  it('keeps order and stays under the byte and count bounds', () => {
    const events = Array.from({ length: 450 }, (_, i) => ({ id: `e${i}`, pad: 'x'.repeat(300) }))
    const parts = chunks(events, 200)
    expect(parts.flat().map((e) => e.id)).toEqual(events.map((e) => e.id))
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(CHUNK_EVENTS)
      expect(byteLength(JSON.stringify({ writeKey: 'wk', events: part }))).toBeLessThan(CHUNK_BYTES)
    }
  })

  it('counts UTF-8 bytes, not characters, and sends an oversized event alone', () => {
    expect(byteLength('{"a":1}')).toBe(7)
    expect(byteLength('aé€😀')).toBe(1 + 2 + 3 + 4)
    const wide = Array.from({ length: 40 }, (_, i) => ({ id: `w${i}`, text: '€'.repeat(1000) }))
    for (const part of chunks(wide, 200)) {
      expect(byteLength(JSON.stringify(part))).toBeLessThan(CHUNK_BYTES)
    }
    const huge = [{ id: 'a' }, { id: 'big', text: 'x'.repeat(70_000) }, { id: 'b' }]
    expect(chunks(huge, 200).map((p) => p.map((e) => e.id))).toEqual([['a'], ['big'], ['b']])
  })
})
