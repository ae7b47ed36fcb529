import { describe, expect, it } from 'vitest'
import { createSiteDirectory, type Site, type SiteLookup } from './sites'

const site: Site = { id: 'sit_1', name: 'Shop', writeKey: 'wk_1', allowedOrigins: [] }

/** A lookup that counts calls; the real one (drizzle) is covered by the integration tests. */
function countingLookup(answer: () => Promise<Site | undefined>) {
  const calls: string[] = []
  const lookup: SiteLookup = {
    byWriteKey: (key) => {
      calls.push(`wk:${key}`)
      return answer()
    },
    bySecret: (key) => {
      calls.push(`sk:${key}`)
      return answer()
    },
  }
  return { lookup, calls }
}

describe('site directory cache', () => {
  it('shares one lookup between concurrent requests and caches the answer', async () => {
    const { lookup, calls } = countingLookup(async () => site)
    const sites = createSiteDirectory(lookup, { ttlMs: 60_000 })
    const [a, b] = await Promise.all([sites.resolve('wk_1'), sites.resolve('wk_1')])
    await sites.resolve('wk_1')
    expect(a).toEqual({ site, trusted: false })
    expect(b).toEqual(a)
    expect(calls).toEqual(['wk:wk_1'])
  })

  it('looks secrets up as secrets and marks them trusted', async () => {
    const { lookup, calls } = countingLookup(async () => site)
    const sites = createSiteDirectory(lookup, { ttlMs: 60_000 })
    expect(await sites.resolve('sk_secret')).toEqual({ site, trusted: true })
    expect(calls).toEqual(['sk:sk_secret'])
  })

  it('does not cache a failed lookup', async () => {
    let fail = true
    const { lookup, calls } = countingLookup(async () => {
      if (fail) {
        throw new Error('database down')
      }
      return site
    })
    const sites = createSiteDirectory(lookup, { ttlMs: 60_000 })
    await expect(sites.resolve('wk_1')).rejects.toThrow('database down')
    fail = false
    expect(await sites.resolve('wk_1')).toEqual({ site, trusted: false })
    expect(calls).toHaveLength(2)
  })

  it('forgets everything on clear(), also what a lookup in flight answers afterwards', async () => {
    let release: (s: Site) => void = () => {}
    let answer = async () => site
    const { lookup, calls } = countingLookup(() => answer())
    const sites = createSiteDirectory(lookup, { ttlMs: 60_000 })
    await sites.resolve('wk_1')
    sites.clear()
    const slow = new Promise<Site>((resolve) => {
      release = resolve
    })
    answer = () => slow
    const inFlight = sites.resolve('wk_1')
    sites.clear()
    release({ ...site, name: 'Old name' })
    expect((await inFlight)?.site.name).toBe('Old name')
    answer = async () => ({ ...site, name: 'New name' })
    expect((await sites.resolve('wk_1'))?.site.name).toBe('New name')
    expect(calls).toHaveLength(3)
  })

  it('keeps at most maxEntries keys', async () => {
    const { lookup, calls } = countingLookup(async () => undefined)
    const sites = createSiteDirectory(lookup, { ttlMs: 60_000, maxEntries: 2 })
    for (const key of ['wk_a', 'wk_b', 'wk_c', 'wk_a']) {
      await sites.resolve(key)
    }
    // wk_a was evicted by wk_c, so it is looked up again.
    expect(calls).toEqual(['wk:wk_a', 'wk:wk_b', 'wk:wk_c', 'wk:wk_a'])
  })
})
