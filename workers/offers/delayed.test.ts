/** Delayed triggers through real BullMQ delayed jobs: fired when nothing cancels, cancelled by "unless". */
import { Queue, Worker } from 'bullmq'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createBlockingRedis } from '../../runtime/redis'
import { QUEUES } from '../../streams/keys'
import { EXAMPLE_RULES } from '../../test/fixtures/rules'
import { offersRig } from '../../test/offers'
import { TEST_REDIS_URL } from '../../test/redis'
import { until } from '../../test/until'
import type { DelayedJob } from './deps'
import { createDelayedProcessor } from './step'

async function delayedRig() {
  const rig = await offersRig()
  const prefix = `${rig.prefix}bull`
  const connections = [
    createBlockingRedis(TEST_REDIS_URL, 'q'),
    createBlockingRedis(TEST_REDIS_URL, 'w'),
  ] as const
  const queue = new Queue<DelayedJob>(QUEUES.delayedOffers, { connection: connections[0], prefix })
  rig.deps.delayed = queue
  const worker = new Worker<DelayedJob>(
    QUEUES.delayedOffers,
    createDelayedProcessor(rig.deps, rig.db),
    {
      connection: connections[1],
      prefix,
    },
  )
  onTestFinished(async () => {
    await worker.close()
    await queue.close()
    for (const connection of connections) {
      connection.disconnect()
    }
  })
  // A 30-minute wait is the example; a test waits 1 second.
  await rig.addRule({
    ...EXAMPLE_RULES.cartReminder,
    trigger: { ...EXAMPLE_RULES.cartReminder.trigger, delay: '1s' },
    offer: {
      ...EXAMPLE_RULES.cartReminder.offer,
      recommendations: { source: 'personal', count: 2 },
    },
  })
  return { rig, queue }
}

describe('delayed triggers', () => {
  it('sends free shipping when no order follows the cart within the delay', async () => {
    const { rig, queue } = await delayedRig()
    const who = rig.profileKey({ anonymousId: 'anon-1' })
    const cart = rig.event({ type: 'AddedToCart', props: { productId: 'p1', price: 20 } } as never)
    await rig.run([cart])
    await rig.run([cart]) // the same job again schedules nothing new
    // Nor does a second cart while the first waits: one reminder, not one per cart.
    await rig.run([
      rig.event({ type: 'AddedToCart', props: { productId: 'p2', price: 30 } } as never),
    ])
    expect(await queue.getDelayedCount()).toBe(1)
    expect(await rig.inbox(who)).toEqual([])
    const inbox = await until(
      () => rig.inbox(who),
      (i) => i.length > 0,
      5_000,
    )
    expect(inbox.map((o) => o.title)).toEqual(['Free shipping'])
    // Fired later, off the product page: the carted items may be shown (unlike an offer fired
    // on the event itself, which leaves out the product on screen).
    expect(inbox[0]?.products.map((p) => p.id).sort()).toEqual(['p1', 'p2'])
    await new Promise((r) => setTimeout(r, 300))
    expect(await rig.inbox(who)).toHaveLength(1)
  })

  it('cancels the delayed offer when the order arrives in time', async () => {
    const { rig, queue } = await delayedRig()
    const who = rig.profileKey({ anonymousId: 'anon-1' })
    await rig.run([rig.event({ type: 'AddedToCart', props: { productId: 'p1' } } as never)])
    expect(await queue.getDelayedCount()).toBe(1)
    await rig.run([
      rig.event({ type: 'OrderCompleted', props: { orderId: 'o1', products: [] } } as never),
    ])
    expect(await queue.getDelayedCount()).toBe(0)
    await new Promise((r) => setTimeout(r, 1_500))
    expect(await rig.inbox(who)).toEqual([])
  })

  it('does not send when the order arrives after the job was already due but before it ran', async () => {
    const { rig } = await delayedRig()
    const who = rig.profileKey({ anonymousId: 'anon-1' })
    // The cancel marker is lost (as if the unless event were processed by a worker whose
    // removal failed): the fire-time count check still cancels.
    await rig.run([rig.event({ type: 'AddedToCart', props: { productId: 'p1' } } as never)])
    await rig.redis.del(rig.keys.profileDelayed(who))
    await rig.run([
      rig.event({ type: 'OrderCompleted', props: { orderId: 'o1', products: [] } } as never),
    ])
    const traces = await until(
      () => rig.redis.lrange(rig.keys.profileDecisions(who), 0, 0),
      (t) => t[0]?.includes('cancelled') === true,
      5_000,
    )
    expect(JSON.parse(traces[0] as string).rules[0].result).toBe(
      'cancelled: OrderCompleted happened during the delay',
    )
    expect(await rig.inbox(who)).toEqual([])
  })
})
