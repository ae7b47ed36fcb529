import { describe, expect, it } from 'vitest'
import { ipBucket } from './login-limit'

describe('ipBucket', () => {
  it('counts an IPv4 address (also dual-stack mapped) by itself', () => {
    expect(ipBucket('203.0.113.7')).toBe('203.0.113.7')
    expect(ipBucket('::ffff:203.0.113.7')).toBe('203.0.113.7')
  })

  it('counts IPv6 addresses of one /64 together, whatever their spelling', () => {
    const bucket = ipBucket('2001:db8:1:2:aaaa:bbbb:cccc:dddd')
    expect(bucket).toBe('2001:db8:1:2::/64')
    expect(ipBucket('2001:0db8:0001:0002::1')).toBe(bucket)
    expect(ipBucket('2001:db8:1:3::1')).not.toBe(bucket)
    expect(ipBucket('::1')).toBe('0:0:0:0::/64')
  })

  it('bounds what it keeps of anything else', () => {
    expect(ipBucket('x'.repeat(500))).toHaveLength(64)
  })
})
