/** The crash tests' oracle, checked on small hand-computed cases. */
import { describe, expect, it } from 'vitest'
import type { ClientEvent } from '../streams/events'
import { DEFAULT_WEIGHTS } from '../workers/domain/profile-delta'
import {
  closeEnough,
  diffProfile,
  type ExpectedProfile,
  expectedProfiles,
  type SentEvent,
  type StoredProfile,
} from './oracle'

const SITE = 'sit_o'
const T0 = Date.UTC(2026, 0, 1)
const WEEK = DEFAULT_WEIGHTS.halfLifeMs

function viewed(id: string, ts: number, who: Partial<ClientEvent> = {}): ClientEvent {
  return {
    id,
    type: 'ProductViewed',
    v: 1,
    anonymousId: 'a1',
    ts,
    props: { productId: `p-${id}`, category: 'Shoes' },
    ...who,
  } as ClientEvent
}

function browser(event: ClientEvent): SentEvent {
  return { siteId: SITE, verified: false, event }
}

function server(event: ClientEvent): SentEvent {
  return { siteId: SITE, verified: true, event }
}

function only(map: Map<string, ExpectedProfile>, key: string): ExpectedProfile {
  const profile = map.get(key)
  if (!profile) {
    throw new Error(`no expected profile ${key}; have ${[...map.keys()].join(', ')}`)
  }
  return profile
}

describe('expectedProfiles', () => {
  it('counts per type, first and last seen, and decays the score from each event’s time', () => {
    const map = expectedProfiles(
      [
        browser(viewed('e1', T0)),
        browser({ ...viewed('e2', T0 + WEEK), type: 'AddedToCart' } as ClientEvent),
      ],
      { at: T0 + WEEK },
    )
    const profile = only(map, `${SITE}:a:a1`)
    expect(profile).toMatchObject({
      n: 2,
      counts: { ProductViewed: 1, AddedToCart: 1 },
      first: T0,
      last: T0 + WEEK,
      purchases: 0,
    })
    expect(profile.score).toBeCloseTo(0.5 + 5, 12)
    expect(profile.interests.Shoes).toBeCloseTo(0.5 + 5, 12)
  })

  it('counts an id once however often it is retried, and refuses a reused id with other content', () => {
    const event = viewed('e1', T0)
    const map = expectedProfiles([browser(event), browser(event), browser(viewed('e2', T0))], {
      at: T0,
    })
    expect(only(map, `${SITE}:a:a1`).n).toBe(2)
    expect(() =>
      expectedProfiles([browser(event), browser(viewed('e1', T0 + 1))], { at: T0 }),
    ).toThrow('sent twice with different content')
  })

  it('keys profiles like the api: proven user, else anonymous, else the claimed user apart', () => {
    const map = expectedProfiles(
      [
        server(viewed('e1', T0, { userId: 'u1', anonymousId: 'a1' })),
        browser(viewed('e2', T0, { userId: 'u1', anonymousId: 'a2' })),
        browser(viewed('e3', T0, { userId: 'u1', anonymousId: undefined })),
      ],
      { at: T0 },
    )
    expect([...map.keys()].sort()).toEqual([`${SITE}:a:a2`, `${SITE}:c:u1`, `${SITE}:u:u1`])
    expect(() => expectedProfiles([server(viewed('e1', T0))], { at: T0 })).toThrow('no userId')
  })

  it('gives the score a negative weight but interest its size, and zero weights nothing', () => {
    const removed = { ...viewed('e1', T0), type: 'RemovedFromCart' } as ClientEvent
    const shown: ClientEvent = {
      id: 'e2',
      type: 'OfferShown',
      v: 1,
      anonymousId: 'a1',
      ts: T0 + 5,
      props: { offerId: 'ofr_1' },
    }
    const profile = only(
      expectedProfiles([browser(removed), browser(shown)], { at: T0 }),
      `${SITE}:a:a1`,
    )
    expect(profile.score).toBe(-1)
    expect(profile.interests).toEqual({ Shoes: 1 })
    expect(profile).toMatchObject({ n: 2, first: T0, last: T0 + 5 })
  })

  it('counts every order line as a purchase, keeps each item’s last purchase time', () => {
    const order = (id: string, ts: number, items: string[]): ClientEvent => ({
      id,
      type: 'OrderCompleted',
      v: 1,
      anonymousId: 'a1',
      ts,
      props: { orderId: id, products: items.map((productId) => ({ productId, category: 'Bags' })) },
    })
    const profile = only(
      expectedProfiles(
        [browser(order('o1', T0, ['p1', 'p2'])), browser(order('o2', T0 + 9, ['p1']))],
        {
          at: T0 + 9,
        },
      ),
      `${SITE}:a:a1`,
    )
    expect(profile.purchases).toBe(3)
    expect(profile.bought).toEqual({ p1: T0 + 9, p2: T0 })
    expect(profile.interests.Bags).toBeGreaterThan(39.99)
  })

  it('does not depend on the order events are listed in', () => {
    const events = [0, 3, 1, 7, 2].map((d, i) => browser(viewed(`e${i}`, T0 + d * 3_600_000)))
    const a = only(expectedProfiles(events, { at: T0 }), `${SITE}:a:a1`)
    const b = only(expectedProfiles([...events].reverse(), { at: T0 }), `${SITE}:a:a1`)
    expect(b.n).toBe(a.n)
    expect(closeEnough(a.score, b.score)).toBe(true)
  })

  it('merges the anonymous profile into the proven user once per pair and keeps it as it was', () => {
    const login = (id: string, ts: number): SentEvent =>
      server({
        id,
        type: 'UserLoggedIn',
        v: 1,
        userId: 'u1',
        anonymousId: 'a1',
        ts,
        props: {},
      })
    const map = expectedProfiles(
      [
        browser(viewed('e1', T0)),
        browser(viewed('e2', T0 + 1)),
        login('l1', T0 + 2),
        login('l2', T0 + 3),
      ],
      { at: T0 + 3 },
    )
    expect(only(map, `${SITE}:a:a1`)).toMatchObject({ n: 2, mergedFrom: [] })
    const user = only(map, `${SITE}:u:u1`)
    expect(user).toMatchObject({
      n: 4,
      counts: { ProductViewed: 2, UserLoggedIn: 2 },
      first: T0,
      last: T0 + 3,
      mergedFrom: [`${SITE}:a:a1`],
    })
    expect(user.score).toBeCloseTo(2 + 3 + 3, 6)
    expect(() =>
      expectedProfiles([login('l1', T0), browser(viewed('e1', T0 + 1))], { at: T0 }),
    ).toThrow('after that profile was merged')
  })
})

describe('diffProfile', () => {
  const expected: ExpectedProfile = {
    key: 'k',
    n: 3,
    counts: { ProductViewed: 2, OrderCompleted: 1 },
    first: T0,
    last: T0 + 10,
    purchases: 1,
    bought: { p1: T0 + 10 },
    score: 11,
    interests: { Shoes: 22 },
    mergedFrom: [],
  }
  // The same values stored as Redis keeps them: decayed sums as (value at ref, ref).
  const stored = (): StoredProfile => ({
    hash: {
      n: '3',
      'n:ProductViewed': '2',
      'n:OrderCompleted': '1',
      first: String(T0),
      last: String(T0 + 10),
      purchases: '1',
      score: '22',
      'score@': String(T0),
    },
    interests: { Shoes: '88', 'Shoes@': String(T0 - WEEK) },
    bought: { p1: T0 + 10 },
  })

  it('finds nothing when counts match and decayed sums agree at the reference time', () => {
    expect(diffProfile(expected, stored(), { at: T0 + WEEK })).toEqual([])
    const at = T0 + WEEK
    expect(diffProfile({ ...expected, score: 11 * (1 + 1e-12) }, stored(), { at })).toEqual([])
  })

  it('names each field that differs', () => {
    const s = stored()
    s.hash.n = '4'
    s.hash['n:ProductViewed'] = '3'
    s.hash['n:Custom'] = '1'
    s.hash.score = '22.01'
    delete s.hash.purchases
    s.interests.Bags = '1'
    s.interests['Bags@'] = String(T0)
    s.bought = {}
    expect(diffProfile(expected, s, { at: T0 + WEEK })).toEqual([
      'k: n is 4, expected 3',
      'k: n:Custom is 1, expected 0',
      'k: n:ProductViewed is 3, expected 2',
      'k: purchases is absent, expected 1',
      expect.stringMatching(/^k: score at \d+ is 11\.005\d*, expected 11$/),
      expect.stringMatching(/^k: interest Bags is 0\.5, expected 0$/),
      `k: bought p1 at never, expected ${T0 + 10}`,
    ])
  })

  it('reports a profile that is not there at all', () => {
    expect(diffProfile(expected, { hash: {}, interests: {}, bought: {} }, { at: T0 })).toEqual([
      'k: missing (expected n=3)',
    ])
  })
})
