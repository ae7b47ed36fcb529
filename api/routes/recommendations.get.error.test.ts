import { describe, expect, it } from 'vitest'
import { basic, type TestApi, testApi } from '../../test/harness'
import type { ErrorBody } from '../errors'

async function issues(t: TestApi, query: string) {
  const res = await t.app.request(`/v1/recommendations?${query}`, {
    headers: { authorization: basic(t.site.secret) },
  })
  expect(res.status, query).toBe(400)
  const body = (await res.json()) as ErrorBody
  expect(body.error.code).toBe('BAD_REQUEST')
  return body.error.issues ?? []
}

describe('GET /v1/recommendations (errors)', () => {
  it('answers 400 naming the parameter and what it expects', async () => {
    const t = await testApi()
    for (const limit of ['0', '101', 'ten', '2.5']) {
      expect(await issues(t, `kind=trending&limit=${limit}`)).toEqual([
        { field: 'limit', reason: 'expected a whole number from 1 to 100' },
      ])
    }
    expect((await issues(t, 'kind=popular'))[0]).toMatchObject({
      field: 'kind',
      reason: 'expected one of personal, similar, trending',
    })
    expect((await issues(t, 'kind=personal&profile=42'))[0]).toMatchObject({
      field: 'profile',
      reason: expect.stringContaining('u:<userId> or a:<anonymousId>'),
    })
    expect((await issues(t, 'kind=trending&limt=5'))[0]).toMatchObject({
      field: 'limt',
      reason: expect.stringContaining('unknown parameter'),
    })
  })

  it('answers 400 when a kind misses its parameter or gets another kind’s', async () => {
    const t = await testApi()
    expect(await issues(t, 'kind=personal')).toEqual([
      { field: 'profile', reason: 'required with kind=personal' },
    ])
    expect(await issues(t, 'kind=similar')).toEqual([
      { field: 'item', reason: 'required with kind=similar' },
    ])
    expect(await issues(t, 'kind=trending&item=p1')).toEqual([
      { field: 'item', reason: 'only used with kind=similar, not kind=trending' },
    ])
    expect(await issues(t, 'kind=similar&item=p1&category=Shoes')).toEqual([
      { field: 'category', reason: 'only used with kind=trending, not kind=similar' },
    ])
  })

  it('answers 404 with a clear message for personal recommendations of an unknown shopper', async () => {
    const t = await testApi()
    const res = await t.app.request('/v1/recommendations?kind=personal&profile=a:nobody', {
      headers: { authorization: basic(t.site.secret) },
    })
    expect(res.status).toBe(404)
    expect(((await res.json()) as ErrorBody).error.message).toContain('No profile a:nobody')
  })
})
