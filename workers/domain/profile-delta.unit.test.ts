import { describe, expect, it } from 'vitest'
import type { StoredEvent } from '../../streams/events'
import { DEFAULT_WEIGHTS, profileDelta } from './profile-delta'

const view = (category: string) =>
  ({
    id: 'e1',
    type: 'ProductViewed',
    v: 1,
    anonymousId: 'a',
    ts: 1,
    receivedAt: 1,
    siteId: 's',
    verified: false,
    props: { productId: 'p', category },
  }) as StoredEvent

describe('profileDelta', () => {
  it("keeps a category clear of the interests hash's reference-time marker", () => {
    expect(profileDelta(view('Shoes'), DEFAULT_WEIGHTS).category).toBe('Shoes')
    expect(profileDelta(view('Shoes@'), DEFAULT_WEIGHTS).category).toBe('Shoes')
    expect(profileDelta(view('@@'), DEFAULT_WEIGHTS).category).toBeUndefined()
  })
})
