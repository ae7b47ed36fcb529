import { describe, expect, it } from 'vitest'
import { compareIds, parseBound } from './replay-log'

describe('parseBound', () => {
  it('reads stream ids, epoch ms and ISO times as inclusive bounds', () => {
    expect(parseBound('1714521600000-3', 'start')).toBe('1714521600000-3')
    expect(parseBound('1714521600000', 'start')).toBe('1714521600000-0')
    expect(parseBound('1714521600000', 'end')).toBe('1714521600000-18446744073709551615')
    expect(parseBound('2024-05-01T00:00:00Z', 'start')).toBe('1714521600000-0')
    expect(parseBound('2024-05-01T02:00:00+02:00', 'start')).toBe('1714521600000-0')
    // A time without an offset is UTC, whatever the machine's time zone.
    expect(parseBound('2024-05-01 00:00', 'start')).toBe('1714521600000-0')
    expect(parseBound('2024-05-01', 'start')).toBe('1714521600000-0')
    expect(parseBound('0', 'start')).toBe('0-0')
  })

  it('refuses anything else', () => {
    for (const text of ['yesterday', '', '-1', '2024-13-45', '1-2-3', '1-99999999999999999999']) {
      expect(parseBound(text, 'start'), text).toBeUndefined()
    }
  })
})

describe('compareIds', () => {
  it('compares numerically, milliseconds first', () => {
    expect(compareIds('9-0', '10-0')).toBe(-1)
    expect(compareIds('10-2', '10-10')).toBe(-1)
    expect(compareIds('10-10', '10-10')).toBe(0)
    expect(compareIds('11-0', '10-18446744073709551615')).toBe(1)
  })
})
