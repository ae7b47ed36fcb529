import { describe, expect, it } from 'vitest'
import { testApi } from '../../test/harness'

describe('GET /v1/schemas', () => {
  it('lists every event type and serves each as JSON Schema', async () => {
    const t = await testApi()
    const list = (await (await t.app.request('/v1/schemas')).json()) as {
      schemas: { type: string; v: number; path: string }[]
    }
    expect(list.schemas).toHaveLength(14)
    for (const entry of list.schemas) {
      const res = await t.app.request(entry.path)
      expect(res.status, entry.path).toBe(200)
      const schema = (await res.json()) as { $schema: string; properties: Record<string, unknown> }
      expect(schema.$schema).toContain('2020-12')
      expect(Object.keys(schema.properties)).toContain('props')
    }
  })

  it('answers 404 naming what exists for an unknown type or version', async () => {
    const t = await testApi()
    const version = await t.app.request('/v1/schemas/ProductViewed/9')
    expect(version.status).toBe(404)
    expect(((await version.json()) as { error: { message: string } }).error.message).toContain(
      'no version 9',
    )
    const type = await t.app.request('/v1/schemas/Nope/1')
    expect(((await type.json()) as { error: { message: string } }).error.message).toContain(
      'ProductViewed',
    )
  })
})
