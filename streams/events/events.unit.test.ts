import { describe, expect, it } from 'vitest'
import { toFieldIssues } from '../issues'
import {
  clientEvent,
  EVENT_TYPES,
  jsonSchemaOf,
  listSchemas,
  looksStored,
  storedEvent,
} from './index'

const base = { id: 'e-1', v: 1, anonymousId: 'a', ts: Date.UTC(2026, 0, 1) }

describe('event contracts', () => {
  it('lists every v1 type of the design, each with a JSON Schema', () => {
    expect([...EVENT_TYPES].sort()).toEqual(
      [
        'AddedToCart',
        'CheckoutStarted',
        'ClickedProduct',
        'Custom',
        'OfferClicked',
        'OfferDismissed',
        'OfferShown',
        'OrderCompleted',
        'PageViewed',
        'ProductViewed',
        'RemovedFromCart',
        'SearchPerformed',
        'UserLoggedIn',
        'UserLoggedOut',
      ].sort(),
    )
    for (const info of listSchemas()) {
      const schema = jsonSchemaOf(info.type, info.v)
      expect(schema?.type, info.type).toBe('object')
      expect([...((schema?.required as string[] | undefined) ?? [])].sort()).toEqual([
        'id',
        'props',
        'ts',
        'type',
        'v',
      ])
    }
    expect(jsonSchemaOf('ProductViewed', 2)).toBeUndefined()
  })

  it('bounds strings, numbers and nesting depth', () => {
    const tooDeep = clientEvent.safeParse({
      ...base,
      type: 'Custom',
      props: { name: 'x', properties: { a: { b: { c: { d: 1 } } } } },
    })
    expect(tooDeep.success).toBe(false)
    const deepEnough = clientEvent.safeParse({
      ...base,
      type: 'Custom',
      props: { name: 'x', properties: { a: { b: { c: 1 } } } },
    })
    expect(deepEnough.success).toBe(true)
    expect(
      clientEvent.safeParse({ ...base, type: 'SearchPerformed', props: { query: 'q'.repeat(257) } })
        .success,
    ).toBe(false)
    expect(
      clientEvent.safeParse({
        ...base,
        type: 'ProductViewed',
        props: { productId: 'p', price: 1e10 },
      }).success,
    ).toBe(false)
    expect(
      clientEvent.safeParse({ ...base, id: 'has space', type: 'UserLoggedOut', props: {} }).success,
    ).toBe(false)
    expect(
      clientEvent.safeParse({ ...base, ts: 1, type: 'UserLoggedOut', props: {} }).success,
    ).toBe(false)
  })

  it('says which field failed and why, in plain words', () => {
    const unknownType = clientEvent.safeParse({ ...base, type: 'ProductLiked', props: {} })
    expect(unknownType.success).toBe(false)
    const [issue] = toFieldIssues(unknownType.error as never, 'events[0]')
    expect(issue?.field).toBe('events[0].type')
    expect(issue?.reason).toContain('expected one of UserLoggedIn')

    const deep = clientEvent.safeParse({
      ...base,
      type: 'Custom',
      props: { name: 'x', properties: { a: { b: { c: { d: 1 } } } } },
    })
    const [depth] = toFieldIssues(deep.error as never, 'events[1]')
    expect(depth?.field).toBe('events[1].props.properties.a')
    expect(depth?.reason).toContain('nested at most 3 levels deep')
  })

  it('drops unknown keys and requires the server stamps in the stored form', () => {
    const parsed = clientEvent.parse({ ...base, type: 'UserLoggedOut', props: {}, verified: true })
    expect('verified' in parsed).toBe(false)
    expect(storedEvent.safeParse(parsed).success).toBe(false)
    expect(
      storedEvent.safeParse({ ...parsed, receivedAt: base.ts, siteId: 'sit_1', verified: false })
        .success,
    ).toBe(true)
  })

  it('tells a stored event from what needs a full parse, as the full parse would', () => {
    const stamps = { receivedAt: base.ts, siteId: 'sit_1', verified: false }
    const order = clientEvent.parse({ ...base, type: 'OrderCompleted', props: { orderId: 'o1' } })
    const stored = { ...order, ...stamps }
    expect(looksStored(stored)).toBe(true)
    expect(storedEvent.safeParse(stored).success).toBe(true)
    // An older writer without the products default: the full parse fills it in.
    const { products: _, ...olderProps } = stored.props as Record<string, unknown>
    const older = { ...stored, props: olderProps }
    expect(looksStored(older)).toBe(false)
    expect(storedEvent.safeParse(older).success).toBe(true)
    for (const broken of [
      { ...stored, type: 'Nope' },
      { ...stored, v: 2 },
      { ...stored, receivedAt: String(base.ts) },
      { ...stored, props: null },
      null,
    ]) {
      expect(looksStored(broken)).toBe(false)
      expect(storedEvent.safeParse(broken).success).toBe(false)
    }
    // The contract alone allows an event without either id; the processors do not.
    expect(looksStored({ ...stored, anonymousId: undefined })).toBe(false)
  })
})
