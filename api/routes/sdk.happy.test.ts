import { describe, expect, it } from 'vitest'
import { testApi } from '../../test/harness'

describe('GET /sdk.js', () => {
  it('serves one minified IIFE with an ETag, and 304 when it did not change', async () => {
    const { app } = await testApi()
    const res = await app.request('/sdk.js')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('public, max-age=300')
    const code = await res.text()
    // V8's compile hint must be the very first line to count, then the IIFE.
    expect(code).toMatch(/^\/\/# allFunctionsCalledOnLoad\n"use strict";\(\(\)=>\{/)
    expect(code).not.toContain('\n  ')
    const etag = res.headers.get('etag') ?? ''
    const again = await app.request('/sdk.js', { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
  })
})
