import { describe, expect, it } from 'vitest'
import { originAllowed, parseOriginPattern } from './origins'

function accepted(text: string): string {
  const parsed = parseOriginPattern(text)
  if (!parsed.ok) {
    throw new Error(`expected "${text}" to be accepted, got: ${parsed.error}`)
  }
  return parsed.pattern
}

function rejected(text: string): string {
  const parsed = parseOriginPattern(text)
  if (parsed.ok) {
    throw new Error(`expected "${text}" to be rejected, got pattern ${parsed.pattern}`)
  }
  return parsed.error
}

describe('parseOriginPattern', () => {
  it.each([
    ['https://shop.example.com', 'https://shop.example.com'],
    ['http://localhost:8080', 'http://localhost:8080'],
    ['http://localhost:*', 'http://localhost:*'],
    ['https://*.example.com', 'https://*.example.com'],
    ['*', '*'],
    ['  HTTPS://Shop.Example.COM  ', 'https://shop.example.com'],
    ['https://shop.example.com:443', 'https://shop.example.com'],
    ['http://shop.example.com:80', 'http://shop.example.com'],
    ['https://shop.example.com:8443', 'https://shop.example.com:8443'],
    ['http://localhost:03000', 'http://localhost:3000'],
    ['https://shop.example.com/', 'https://shop.example.com'],
    ['https://münchen.example', 'https://xn--mnchen-3ya.example'],
    ['http://127.0.0.1:*', 'http://127.0.0.1:*'],
    ['http://[0:0::1]:3000', 'http://[::1]:3000'],
    ['https://*.example.com:*', 'https://*.example.com:*'],
    ['http://*.localhost:*', 'http://*.localhost:*'],
  ])('accepts %s as %s', (text, pattern) => {
    expect(accepted(text)).toBe(pattern)
  })

  it.each([
    ['https://shop.example.com/checkout', 'a path ("/checkout")'],
    ['https://shop.example.com/?a=1', 'a path'],
    ['https://shop.example.com?a=1', 'a query ("?a=1")'],
    ['https://shop.example.com#top', 'a fragment'],
    ['https://user:pass@shop.example.com', 'credentials'],
    ['ftp://shop.example.com', 'only http:// and https://'],
    ['ws://shop.example.com', 'only http:// and https://'],
    ['shop.example.com', 'no scheme'],
    ['localhost:3000', 'no scheme'],
    ['https://', 'no host'],
    ['https://shop.example.com:0', 'port "0"'],
    ['https://shop.example.com:70000', 'port "70000"'],
    ['https://shop.example.com:', 'port ""'],
    ['https://shop.*.com', 'whole first label'],
    ['https://*example.com', 'whole first label'],
    ['https://*', 'whole first label'],
    ['https://*.com', 'top-level domain'],
    ['https://*.127.0.0.1', 'no subdomains'],
    ['https://shop_1.example.com', 'not a valid host name'],
    ['https://-shop.example.com', 'not a valid host name'],
    ['https://shop..example.com', 'not a valid host name'],
    ['http://[::g]:3000', 'not an IPv6 address'],
    ['', 'is required'],
  ])('rejects %s, saying %s', (text, reason) => {
    const error = rejected(text)
    expect(error).toContain(reason)
    expect(error).toContain('Expected an origin such as https://shop.example.com')
  })
})

describe('originAllowed', () => {
  const patterns = (...texts: string[]) => texts.map(accepted)

  it('matches an exact origin only', () => {
    const list = patterns('https://shop.example.com')
    expect(originAllowed('https://shop.example.com', list)).toBe(true)
    expect(originAllowed('http://shop.example.com', list)).toBe(false)
    expect(originAllowed('https://shop.example.com:8443', list)).toBe(false)
    expect(originAllowed('https://shop.example.com.evil.test', list)).toBe(false)
    expect(originAllowed('https://evilshop.example.com', list)).toBe(false)
    expect(originAllowed('https://a.shop.example.com', list)).toBe(false)
    expect(originAllowed('https://shop.example.co', list)).toBe(false)
  })

  it('treats the default port as no port, as browsers do', () => {
    expect(
      originAllowed('https://shop.example.com:443', patterns('https://shop.example.com')),
    ).toBe(true)
    expect(originAllowed('http://shop.example.com', patterns('http://shop.example.com:80'))).toBe(
      true,
    )
  })

  it('matches any port for host:*, including the default one, and nothing else', () => {
    const list = patterns('http://localhost:*')
    expect(originAllowed('http://localhost:5173', list)).toBe(true)
    expect(originAllowed('http://localhost', list)).toBe(true)
    expect(originAllowed('https://localhost:5173', list)).toBe(false)
    expect(originAllowed('http://localhost.evil.test:5173', list)).toBe(false)
    expect(originAllowed('http://127.0.0.1:5173', list)).toBe(false)
  })

  it('matches subdomains at any depth for *.domain, never the apex or look-alikes', () => {
    const list = patterns('https://*.example.com')
    expect(originAllowed('https://shop.example.com', list)).toBe(true)
    expect(originAllowed('https://eu.shop.example.com', list)).toBe(true)
    expect(originAllowed('https://example.com', list)).toBe(false)
    expect(originAllowed('https://badexample.com', list)).toBe(false)
    expect(originAllowed('https://shop.example.com.evil.test', list)).toBe(false)
    expect(originAllowed('http://shop.example.com', list)).toBe(false)
    expect(originAllowed('https://shop.example.com:8443', list)).toBe(false)
  })

  it('matches anything for *, including the opaque origin null', () => {
    expect(originAllowed('https://anything.test', patterns('*'))).toBe(true)
    expect(originAllowed('null', patterns('*'))).toBe(true)
  })

  it('rejects malformed origins and empty allow-lists', () => {
    const list = patterns('https://shop.example.com', 'http://localhost:*')
    expect(originAllowed('null', list)).toBe(false)
    expect(originAllowed('', list)).toBe(false)
    expect(originAllowed('https://shop.example.com/', list)).toBe(false)
    expect(originAllowed('https://user@shop.example.com', list)).toBe(false)
    expect(originAllowed('https://shop.example.com', [])).toBe(false)
  })

  it('accepts the uppercase spelling a non-browser client may send', () => {
    expect(originAllowed('HTTPS://SHOP.EXAMPLE.COM', patterns('https://shop.example.com'))).toBe(
      true,
    )
  })

  it('matches IPv6 literals in canonical form', () => {
    const list = patterns('http://[::1]:*')
    expect(originAllowed('http://[::1]:3000', list)).toBe(true)
    expect(originAllowed('http://[::2]:3000', list)).toBe(false)
  })
})
