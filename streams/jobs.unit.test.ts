import { describe, expect, it } from 'vitest'
import { checkEventsJob } from './jobs'

const event = {
  id: 'e1',
  type: 'ProductViewed',
  v: 1,
  anonymousId: 'a1',
  siteId: 'sit_1',
  ts: Date.UTC(2026, 10, 1),
  receivedAt: Date.UTC(2026, 10, 1, 0, 0, 1),
  verified: false,
  props: { productId: 'p1' },
}

describe('checkEventsJob', () => {
  it('passes a job as the pump writes it, unchanged', () => {
    const job = { partition: 3, entryId: '1-0', events: [event] }
    expect(checkEventsJob(job)).toBe(job)
  })

  it('says what is wrong and where', () => {
    expect(checkEventsJob(null)).toMatch(/expected an object/)
    expect(checkEventsJob({ partition: '3', entryId: '1-0', events: [event] })).toMatch(/partition/)
    expect(checkEventsJob({ partition: 0, entryId: '1-0', events: [] })).toMatch(/non-empty/)
    const broken = [
      { ...event, type: 'Teleported' },
      { ...event, ts: '1' },
      { ...event, id: undefined },
      { ...event, props: null },
      { ...event, anonymousId: undefined },
      { ...event, verified: undefined },
    ]
    for (const bad of broken) {
      expect(checkEventsJob({ partition: 0, entryId: '1-0', events: [event, bad] })).toMatch(
        /^events\[1\]: .*; events\.1/,
      )
    }
  })

  it('fills in the defaults of a job queued before a field with a default existed', () => {
    const order = { ...event, type: 'OrderCompleted', props: { orderId: 'o1' } }
    const job = checkEventsJob({ partition: 0, entryId: '1-0', events: [order] })
    expect(typeof job === 'string' ? job : job.events[0]?.props).toEqual({
      orderId: 'o1',
      products: [],
    })
  })
})
