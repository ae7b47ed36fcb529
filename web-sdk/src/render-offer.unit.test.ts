import { describe, expect, it } from 'vitest'
import { isHttpUrl } from './render-offer'

describe('isHttpUrl', () => {
  it('accepts absolute http(s) URLs only', () => {
    expect(isHttpUrl('https://shop.example/sale')).toBe(true)
    expect(isHttpUrl('HTTP://shop.example')).toBe(true)
    for (const bad of [
      'javascript:alert(1)',
      ' javascript:alert(1)',
      'data:text/html,<b>x</b>',
      '//evil.example',
      '/relative',
      'https://',
      42,
      undefined,
    ]) {
      expect(isHttpUrl(bad), String(bad)).toBe(false)
    }
  })
})
