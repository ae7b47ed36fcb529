/**
 * @module Shopper events processed straight into a test api's Redis by the real workers
 * processors (profiles + recommendations), without the pump: read endpoints are tested
 * against state the workers really write, so a drift in the stored contract fails them.
 */
import type { StoredEvent } from '../streams/events'
import { createKeys } from '../streams/keys'
import { DEFAULT_WEIGHTS } from '../workers/domain/profile-delta'
import { createEventsProcessor } from '../workers/processors/events'
import { PROFILE_LIMITS } from '../workers/processors/profile'
import { createRecommendationsStep } from '../workers/processors/recommendations'
import type { TestApi } from './harness'

let seq = 0

type Who = { anonymousId?: string; userId?: string }
type ItemEvent = 'ProductViewed' | 'ClickedProduct' | 'AddedToCart'

/** A stored item event of the test site (a proven user when `userId` is given). */
export function itemEvent(
  t: TestApi,
  who: Who,
  type: ItemEvent,
  productId: string,
  opts: { ts?: number; category?: string } = {},
): StoredEvent {
  seq += 1
  const ts = opts.ts ?? Date.now()
  return {
    id: `t-${process.pid}-${seq}`,
    type,
    v: 1,
    ...who,
    ts,
    receivedAt: ts,
    siteId: t.site.site.id,
    verified: who.userId !== undefined,
    props: { productId, ...(opts.category === undefined ? {} : { category: opts.category }) },
  } as StoredEvent
}

/** A stored OrderCompleted of the test site. */
export function orderEvent(
  t: TestApi,
  who: Who,
  productIds: string[],
  ts = Date.now(),
): StoredEvent {
  seq += 1
  return {
    id: `t-${process.pid}-${seq}`,
    type: 'OrderCompleted',
    v: 1,
    ...who,
    ts,
    receivedAt: ts,
    siteId: t.site.site.id,
    verified: who.userId !== undefined,
    props: { orderId: `o-${seq}`, products: productIds.map((productId) => ({ productId })) },
  }
}

/**
 * Runs events through the workers' events processor, one job per call.
 * @example await processEvents(t, [itemEvent(t, { anonymousId: 'a1' }, 'ProductViewed', 'p1')])
 */
export async function processEvents(t: TestApi, events: StoredEvent[]): Promise<void> {
  const keys = createKeys(t.prefix)
  const run = createEventsProcessor(
    {
      redis: t.redis,
      keys,
      weights: DEFAULT_WEIGHTS,
      retentionMs: t.config.NUDGE_RETENTION,
      ...PROFILE_LIMITS,
    },
    [createRecommendationsStep({ redis: t.redis, keys })],
  )
  await run({ partition: 0, entryId: `${seq}-0`, events })
}
