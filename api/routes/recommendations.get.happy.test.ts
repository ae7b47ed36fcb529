import { describe, expect, it } from 'vitest'
import { basic, type TestApi, testApi } from '../../test/harness'
import { itemEvent, orderEvent, processEvents } from '../../test/shoppers'
import type { RecommendationsResponse } from './recommendations.get'

const MIN = 60_000

async function get(t: TestApi, query: string): Promise<RecommendationsResponse> {
  const res = await t.app.request(`/v1/recommendations?${query}`, {
    headers: { authorization: basic(t.site.secret) },
  })
  expect(res.status, await res.clone().text()).toBe(200)
  return (await res.json()) as RecommendationsResponse
}

const ids = (r: RecommendationsResponse) => r.items.map((i) => i.productId)

describe('GET /v1/recommendations', () => {
  it('kind=similar lists co-viewed items, most similar first; an unknown item has none', async () => {
    const t = await testApi()
    const ts = Date.now() - 60 * MIN
    for (const [shopper, items] of [
      ['s1', ['a', 'b', 'c']],
      ['s2', ['a', 'b']],
    ] as const) {
      await processEvents(
        t,
        items.map((item, i) =>
          itemEvent(t, { anonymousId: shopper }, 'ProductViewed', item, { ts: ts + i * MIN }),
        ),
      )
    }
    const similar = await get(t, 'kind=similar&item=a')
    expect(similar.kind).toBe('similar')
    expect(ids(similar)).toEqual(['b', 'c'])
    expect(similar.items[0]?.score).toBeGreaterThan(similar.items[1]?.score ?? 0)
    expect(similar.items.every((i) => i.source === 'similar')).toBe(true)
    expect((await get(t, 'kind=similar&item=never-seen')).items).toEqual([])
    expect(ids(await get(t, 'kind=similar&item=a&limit=1'))).toEqual(['b'])
  })

  it('kind=trending ranks by decayed popularity, site-wide or per category', async () => {
    const t = await testApi()
    const now = Date.now()
    await processEvents(t, [
      itemEvent(t, { anonymousId: 's1' }, 'ProductViewed', 'shoe', { category: 'Shoes', ts: now }),
      itemEvent(t, { anonymousId: 's1' }, 'AddedToCart', 'shoe', { category: 'Shoes', ts: now }),
      itemEvent(t, { anonymousId: 's2' }, 'ProductViewed', 'bag', { category: 'Bags', ts: now }),
      // Four views three days ago count for half a view now.
      ...[1, 2, 3, 4].map((i) =>
        itemEvent(t, { anonymousId: `o${i}` }, 'ProductViewed', 'old', { ts: now - 72 * 60 * MIN }),
      ),
    ])
    const all = await get(t, 'kind=trending')
    expect(ids(all)).toEqual(['shoe', 'bag', 'old'])
    expect(all.items[0]?.score).toBeCloseTo(4, 2)
    expect(all.items[2]?.score).toBeCloseTo(0.5, 2)
    expect(ids(await get(t, 'kind=trending&category=Bags'))).toEqual(['bag'])
    expect((await get(t, 'kind=trending&category=Nothing')).items).toEqual([])
  })

  it('kind=personal answers the shopper’s list, never what they bought', async () => {
    const t = await testApi()
    const ts = Date.now() - 30 * MIN
    await processEvents(t, [
      itemEvent(t, { anonymousId: 's1' }, 'ProductViewed', 'a', { ts }),
      itemEvent(t, { anonymousId: 's1' }, 'ProductViewed', 'b', { ts: ts + MIN }),
      itemEvent(t, { anonymousId: 's1' }, 'ProductViewed', 'hit', { ts: ts + 2 * MIN }),
      itemEvent(t, { anonymousId: 's3' }, 'ProductViewed', 'hit', { ts: ts + 3 * MIN }),
      itemEvent(t, { anonymousId: 's4' }, 'ProductViewed', 'elsewhere', { ts: ts + 3 * MIN }),
    ])
    await processEvents(t, [
      itemEvent(t, { userId: 'u2' }, 'ProductViewed', 'a', { ts: ts + 10 * MIN }),
      orderEvent(t, { userId: 'u2' }, ['hit'], ts + 11 * MIN),
    ])
    const personal = await get(t, 'kind=personal&profile=u:u2&limit=5')
    expect(personal.kind).toBe('personal')
    // Bought `hit` is gone; what was seen with it (and `a`, seen by u2 too) comes first, then
    // site-wide trending as a tie-breaker.
    expect(ids(personal).slice(0, 2).sort()).toEqual(['a', 'b'])
    expect(ids(personal)[2]).toBe('elsewhere')
    expect(personal.items.every((i) => i.source === 'personal')).toBe(true)
    expect(ids(personal)).not.toContain('hit')
    // `profile` alone means personal.
    expect(ids(await get(t, 'profile=u:u2&limit=5'))).toEqual(ids(personal))
  })

  it('answers site-wide trending for a known shopper without item events (cold start)', async () => {
    const t = await testApi()
    await processEvents(t, [
      itemEvent(t, { anonymousId: 's1' }, 'AddedToCart', 'best'),
      itemEvent(t, { anonymousId: 's2' }, 'ProductViewed', 'second'),
    ])
    await processEvents(t, [
      {
        ...itemEvent(t, { anonymousId: 'new' }, 'ProductViewed', 'x'),
        type: 'PageViewed',
        props: {},
      },
    ])
    const cold = await get(t, 'kind=personal&profile=a:new')
    expect(ids(cold)).toEqual(['best', 'second'])
    expect(cold.items.every((i) => i.source === 'trending')).toBe(true)
  })
})
