/**
 * Caps under concurrency, holdout stability, replays and outcomes, against real Redis and
 * PostgreSQL. The race uses many pipelines on their own connections, as separate workers would.
 */
import { and, eq } from 'drizzle-orm'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ruleFigures } from '../../drizzle/queries/outcomes'
import { offerOutcomes } from '../../drizzle/schema/offers'
import { createRedis, waitReady } from '../../runtime/redis'
import type { RuleInput } from '../../streams/rules'
import { offersRig } from '../../test/offers'
import { TEST_REDIS_URL } from '../../test/redis'
import { createEventsPipeline } from '../main'
import { bucket } from './compile'

const onView = (over: Partial<RuleInput> = {}): RuleInput => ({
  name: 'Any view',
  trigger: { event: 'ProductViewed' },
  offer: { title: 'Hello', cta: { label: 'Go', url: 'https://shop.example/' } },
  ...over,
})

describe('caps, holdout and outcomes', () => {
  it('hands out exactly the budget when many workers race for it', async () => {
    const rig = await offersRig()
    const rule = await rig.addRule(onView({ caps: { budget: 5 } }))
    const connections = Array.from({ length: 8 }, () =>
      createRedis(TEST_REDIS_URL, { commandTimeoutMs: 5_000 }),
    )
    await Promise.all(connections.map((redis) => waitReady(redis, 5_000)))
    onTestFinished(() => {
      for (const redis of connections) {
        redis.disconnect()
      }
    })
    const workers = connections.map((redis) => {
      return createEventsPipeline({
        config: rig.config,
        redis,
        keys: rig.keys,
        offers: { deps: { ...rig.deps, redis }, db: rig.db },
      })
    })
    const shoppers = Array.from({ length: 40 }, (_, i) => `racer-${i}`)
    await Promise.all(
      shoppers.map((anonymousId, i) =>
        workers[i % workers.length]?.({
          partition: 0,
          entryId: `${i + 1}-0`,
          events: [
            rig.event({ type: 'ProductViewed', anonymousId, props: { productId: 'p' } } as never),
          ],
        }),
      ),
    )
    const inboxes = await Promise.all(
      shoppers.map((a) => rig.inbox(rig.profileKey({ anonymousId: a }))),
    )
    expect(inboxes.flat()).toHaveLength(5)
    expect(await rig.redis.hget(rig.keys.ruleBudget(rule.id), 'taken')).toBe('5')
    const rows = await rig.db.select().from(offerOutcomes).where(eq(offerOutcomes.ruleId, rule.id))
    expect(rows).toHaveLength(5)
  })

  it('gives one shopper one offer when two workers race within a cooldown', async () => {
    const rig = await offersRig()
    await rig.addRule(onView({ caps: { cooldown: '1h' } }))
    await rig.addRule(onView({ name: 'Other rule', caps: { cooldown: '1h' } }))
    const redis2 = createRedis(TEST_REDIS_URL, { commandTimeoutMs: 5_000 })
    onTestFinished(() => redis2.disconnect())
    await waitReady(redis2, 5_000)
    const second = createEventsPipeline({
      config: rig.config,
      redis: redis2,
      keys: rig.keys,
      offers: { deps: { ...rig.deps, redis: redis2 }, db: rig.db },
    })
    const a = rig.event({ type: 'ProductViewed', props: { productId: 'a' } } as never)
    const b = rig.event({ type: 'ProductViewed', props: { productId: 'b' } } as never)
    await Promise.all([rig.run([a]), second({ partition: 0, entryId: '999-0', events: [b] })])
    expect(await rig.inbox(rig.profileKey({ anonymousId: 'anon-1' }))).toHaveLength(1)
  })

  it('keeps a shopper in the same holdout group after they log in, and sends holdouts nothing', async () => {
    const rig = await offersRig()
    const rule = await rig.addRule(onView({ holdoutPercent: 50 }))
    // Find an anonymous id that falls in the holdout and one that does not.
    const ids = Array.from({ length: 64 }, (_, i) => `visitor-${i}`)
    const held = ids.find((id) => bucket(id, rule.id, 'holdout') < 50) as string
    const treated = ids.find((id) => bucket(id, rule.id, 'holdout') >= 50) as string
    for (const anonymousId of [held, treated]) {
      await rig.run([
        rig.event({ type: 'ProductViewed', anonymousId, props: { productId: 'p' } } as never),
      ])
      // Logged in later (same browser): the user's first decision keeps the anonymous anchor.
      await rig.run([
        rig.event({
          type: 'UserLoggedIn',
          anonymousId,
          userId: `user-${anonymousId}`,
          verified: true,
        } as never),
        rig.event({
          type: 'ProductViewed',
          anonymousId,
          userId: `user-${anonymousId}`,
          verified: true,
          props: { productId: 'q' },
        } as never),
      ])
    }
    expect(await rig.inbox(rig.profileKey({ anonymousId: held }))).toEqual([])
    expect(await rig.inbox(rig.profileKey({ userId: `user-${held}` }))).toEqual([])
    expect(await rig.inbox(rig.profileKey({ anonymousId: treated }))).toHaveLength(1)
    expect(await rig.inbox(rig.profileKey({ userId: `user-${treated}` }))).toHaveLength(1)
    const figures = await ruleFigures(rig.db, rig.siteId)
    expect(figures).toEqual([
      expect.objectContaining({ ruleId: rule.id, delivered: 2, holdout: 2 }),
    ])
  })

  it('never offers on replayed, imported or long-delayed events, but trusts a skewed clock', async () => {
    const rig = await offersRig()
    await rig.addRule(onView())
    const who = rig.profileKey({ anonymousId: 'anon-1' })
    const now = Date.now()
    const view = (over: Record<string, unknown>) =>
      rig.event({ type: 'ProductViewed', props: { productId: 'p' }, ...over } as never)
    // A replay job; an import (event time two days before the api got it); a pipeline two
    // hours behind (received two hours ago).
    await rig.run([view({})], true)
    await rig.run([view({ ts: now - 2 * 86_400_000, receivedAt: now })])
    await rig.run([view({ ts: now - 2 * 3_600_000, receivedAt: now - 2 * 3_600_000 })])
    expect(await rig.inbox(who)).toEqual([])
    // The profile still counted all three.
    expect(await rig.redis.hget(rig.keys.profile(who), 'n')).toBe('3')
    // A device whose clock is two hours behind is still a shopper acting now.
    const skewed = rig.profileKey({ anonymousId: 'skewed' })
    await rig.run([view({ anonymousId: 'skewed', ts: now - 2 * 3_600_000, receivedAt: now })])
    expect(await rig.inbox(skewed)).toHaveLength(1)
  })

  it('writes the delivered row again when a job is re-run after its rows were lost', async () => {
    const rig = await offersRig()
    const rule = await rig.addRule(
      onView({ caps: { perShopper: { count: 1, period: '1d' }, cooldown: '1h' } }),
    )
    const view = rig.event({ type: 'ProductViewed', props: { productId: 'p' } } as never)
    await rig.run([view])
    // As if the INSERT had failed (PostgreSQL away) and the job were retried.
    await rig.db.delete(offerOutcomes).where(eq(offerOutcomes.ruleId, rule.id))
    await rig.run([view])
    const rows = await rig.db.select().from(offerOutcomes).where(eq(offerOutcomes.ruleId, rule.id))
    expect(rows.map((r) => r.kind)).toEqual(['delivered'])
    expect(await rig.inbox(rig.profileKey({ anonymousId: 'anon-1' }))).toHaveLength(1)
  })

  it('records shown, clicked and converted for offers the shopper really got', async () => {
    const rig = await offersRig()
    const rule = await rig.addRule(onView())
    const who = rig.profileKey({ anonymousId: 'anon-1' })
    await rig.run([rig.event({ type: 'ProductViewed', props: { productId: 'p' } } as never)])
    const [sent] = await rig.inbox(who)
    const ack = (type: string, offerId: string, anonymousId = 'anon-1') =>
      rig.event({ type, anonymousId, props: { offerId } } as never)
    await rig.run([
      ack('OfferShown', sent?.id as string),
      ack('OfferClicked', sent?.id as string),
      ack('OfferShown', sent?.id as string), // a second tab: counted once
      ack('OfferClicked', sent?.id as string, 'someone-else'), // not their offer
      ack('OfferDismissed', 'ofr_made_up'),
      rig.event({ type: 'OrderCompleted', props: { orderId: 'o-1', products: [] } } as never),
    ])
    const rows = await rig.db
      .select({ kind: offerOutcomes.kind })
      .from(offerOutcomes)
      .where(and(eq(offerOutcomes.ruleId, rule.id), eq(offerOutcomes.profileKey, who)))
    expect(rows.map((r) => r.kind).sort()).toEqual(['clicked', 'converted', 'delivered', 'shown'])
  })

  it('counts the clicks and the order of a shopper who logged in after getting the offer', async () => {
    const rig = await offersRig()
    const rule = await rig.addRule(onView())
    await rig.run([rig.event({ type: 'ProductViewed', props: { productId: 'p' } } as never)])
    const [sent] = await rig.inbox(rig.profileKey({ anonymousId: 'anon-1' }))
    const asUser = { anonymousId: 'anon-1', userId: 'u-1', verified: true }
    await rig.run([
      rig.event({ type: 'UserLoggedIn', ...asUser, props: {} } as never),
      rig.event({ type: 'OfferClicked', ...asUser, props: { offerId: sent?.id } } as never),
      rig.event({
        type: 'OrderCompleted',
        ...asUser,
        props: { orderId: 'o-2', products: [] },
      } as never),
    ])
    const rows = await rig.db
      .select({ kind: offerOutcomes.kind, offerId: offerOutcomes.offerId })
      .from(offerOutcomes)
      .where(eq(offerOutcomes.ruleId, rule.id))
    expect(rows.map((r) => r.kind).sort()).toEqual(['clicked', 'converted', 'delivered'])
    expect(new Set(rows.map((r) => r.offerId))).toEqual(new Set([sent?.id]))
  })
})
