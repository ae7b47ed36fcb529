/**
 * @module Allowed-origin patterns of a site: parsing what an operator types, and matching a
 * request's `Origin` header against the stored patterns. Pure; no I/O.
 *
 * Patterns, after normalisation (lowercase, punycode host, default port dropped):
 * - `https://shop.example.com`, `http://localhost:8080` — exactly that origin;
 * - `http://localhost:*` — that scheme and host on any port, including the default one;
 * - `https://*.example.com` — any subdomain at any depth, never the apex `example.com`;
 * - `*` — any origin, even `null`. For development only: it turns the check off.
 */
import { isIPv4, isIPv6 } from 'node:net'
import { domainToASCII } from 'node:url'

/** A pattern that `parseOriginPattern` accepted and normalised; the only kind stored. */
export type OriginPattern = string & { readonly __brand: 'OriginPattern' }

export type ParsedOriginPattern =
  | { ok: true; pattern: OriginPattern }
  | { ok: false; error: string }

const EXPECTED =
  'Expected an origin such as https://shop.example.com, http://localhost:8080, ' +
  'http://localhost:* (any port), https://*.example.com (any subdomain) ' +
  'or * (any origin; development only).'

const DEFAULT_PORT: Record<string, string> = { http: '80', https: '443' }
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
const MAX_LENGTH = 300

/** Browsers serialise origins lowercase, punycode, without a default port or trailing slash. */
const ORIGIN = /^(https?):\/\/(\[[0-9a-f:.]+\]|[a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::(\d{1,5}))?$/

/**
 * Checks and normalises one allowed-origin pattern; the error says what was wrong and what is
 * expected. A single trailing `/` is tolerated (it is how browsers display a bare origin).
 * @example parseOriginPattern('https://Shop.example.com:443/') // { ok: true, pattern: 'https://shop.example.com' }
 */
export function parseOriginPattern(text: string): ParsedOriginPattern {
  const input = text.trim()
  const fail = (reason: string): ParsedOriginPattern => ({
    ok: false,
    error: `"${text}" is not an allowed origin: ${reason}. ${EXPECTED}`,
  })
  if (input === '') {
    return { ok: false, error: `an allowed origin is required. ${EXPECTED}` }
  }
  if (input.length > MAX_LENGTH) {
    return fail(`it is longer than ${MAX_LENGTH} characters`)
  }
  if (input === '*') {
    return { ok: true, pattern: '*' as OriginPattern }
  }
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(input)
  if (!schemeMatch) {
    return fail('it has no scheme; start it with https:// or http://')
  }
  const scheme = (schemeMatch[1] ?? '').toLowerCase()
  if (scheme !== 'http' && scheme !== 'https') {
    return fail(`the scheme is ${scheme}://, but only http:// and https:// pages have origins here`)
  }
  let authority = input.slice(schemeMatch[0].length)
  const tailAt = authority.search(/[/?#]/)
  if (tailAt !== -1) {
    const tail = authority.slice(tailAt)
    if (tail !== '/') {
      const part = tail.startsWith('/') ? 'a path' : tail.startsWith('?') ? 'a query' : 'a fragment'
      return fail(`it has ${part} ("${tail}"), but an origin is only scheme://host[:port]`)
    }
    authority = authority.slice(0, tailAt)
  }
  if (authority.includes('@')) {
    return fail('it contains credentials (user@…); remove them')
  }
  const split = splitHostPort(authority)
  if (typeof split === 'string') {
    return fail(split)
  }
  const port = normalisePort(split.port, scheme)
  if ('error' in port) {
    return fail(port.error)
  }
  const host = normaliseHost(split.host)
  if ('error' in host) {
    return fail(host.error)
  }
  const suffix = port.value === '' ? '' : `:${port.value}`
  return { ok: true, pattern: `${scheme}://${host.value}${suffix}` as OriginPattern }
}

/**
 * Whether a request's `Origin` header matches one of a site's patterns. Exact: no prefix or
 * substring matching, so `https://shop.example.com.evil.test` never matches
 * `https://shop.example.com`. Cost is linear in the number of patterns, with no allocation
 * beyond splitting the origin once.
 * @example originAllowed('http://localhost:5173', ['http://localhost:*']) // true
 */
export function originAllowed(origin: string, patterns: readonly string[]): boolean {
  const match = ORIGIN.exec(origin.toLowerCase())
  const scheme = match?.[1] ?? ''
  const host = match?.[2] ?? ''
  const rawPort = match?.[3] ?? ''
  const port = rawPort === DEFAULT_PORT[scheme] ? '' : rawPort
  const exact = match ? `${scheme}://${host}${port === '' ? '' : `:${port}`}` : undefined
  for (const pattern of patterns) {
    if (pattern === '*' || pattern === exact) {
      return true
    }
    if (match && pattern.includes('*') && wildcardMatches(pattern, scheme, host, port)) {
      return true
    }
  }
  return false
}

function wildcardMatches(pattern: string, scheme: string, host: string, port: string): boolean {
  const schemeEnd = pattern.indexOf('://')
  if (pattern.slice(0, schemeEnd) !== scheme) {
    return false
  }
  const rest = pattern.slice(schemeEnd + 3)
  const colon = rest.indexOf(':', rest.lastIndexOf(']') + 1)
  const patternHost = colon === -1 ? rest : rest.slice(0, colon)
  const patternPort = colon === -1 ? '' : rest.slice(colon + 1)
  if (patternPort !== '*' && patternPort !== port) {
    return false
  }
  if (patternHost.startsWith('*.')) {
    const dotSuffix = patternHost.slice(1)
    return host.length > dotSuffix.length && host.endsWith(dotSuffix)
  }
  return patternHost === host
}

function splitHostPort(authority: string): { host: string; port: string | undefined } | string {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']')
    if (close === -1) {
      return 'the IPv6 address has no closing "]"'
    }
    const after = authority.slice(close + 1)
    if (after !== '' && !after.startsWith(':')) {
      return `unexpected "${after}" after the IPv6 address`
    }
    return { host: authority.slice(0, close + 1), port: after === '' ? undefined : after.slice(1) }
  }
  const colon = authority.lastIndexOf(':')
  if (colon === -1) {
    return { host: authority, port: undefined }
  }
  return { host: authority.slice(0, colon), port: authority.slice(colon + 1) }
}

function normalisePort(
  port: string | undefined,
  scheme: string,
): { value: string } | { error: string } {
  if (port === undefined) {
    return { value: '' }
  }
  if (port === '*') {
    return { value: '*' }
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    return { error: `the port "${port}" is not a number from 1 to 65535 or *` }
  }
  const value = String(Number(port))
  return { value: value === DEFAULT_PORT[scheme] ? '' : value }
}

function normaliseHost(host: string): { value: string } | { error: string } {
  if (host === '') {
    return { error: 'it has no host' }
  }
  if (host.startsWith('[')) {
    // Browsers send the canonical (compressed, lowercase) form, so store that one.
    return isIPv6(host.slice(1, -1))
      ? { value: new URL(`http://${host}`).hostname }
      : { error: `${host} is not an IPv6 address` }
  }
  if (isIPv4(host)) {
    return { value: host }
  }
  const wildcard = host.startsWith('*.')
  const name = wildcard ? host.slice(2) : host
  if (name.includes('*')) {
    return { error: 'a wildcard must be the whole first label, as in https://*.example.com' }
  }
  const ascii = domainToASCII(name)
  const labels = ascii.split('.')
  if (ascii === '' || ascii.length > 253 || !labels.every((label) => LABEL.test(label))) {
    return { error: `"${name}" is not a valid host name` }
  }
  if (wildcard) {
    const last = labels[labels.length - 1] ?? ''
    if (/^\d+$/.test(last)) {
      return { error: 'IP addresses have no subdomains, so they take no wildcard' }
    }
    if (labels.length < 2 && ascii !== 'localhost') {
      return { error: `*.${ascii} would allow a whole top-level domain; name the site's domain` }
    }
  }
  return { value: wildcard ? `*.${ascii}` : ascii }
}
