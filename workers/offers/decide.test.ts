/** Decisions against real Redis and PostgreSQL: the example rules, exactly-once, caps, holdout. */
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { benchRule } from '../../bench/decide-rules'
import { createRule } from '../../drizzle/queries/rules'
import { offerOutcomes } from '../../drizzle/schema/offers'
import type { StoredEvent } from '../../streams/events'
import { createKeys } from '../../streams/keys'
import { createCandidateIndex } from '../../streams/rule-index'
import { ruleInput } from '../../streams/rules'
import { EXAMPLE_RULES } from '../../test/fixtures/rules'
import { offersRig } from '../../test/offers'
import { createEventsPipeline } from '../main'
import type { RuleIndex } from './rule-cache'

const MIN = 60_000
const shoe = (n: number) => ({ productId: `shoe-${n}`, category: 'Shoes', price: 80 })

describe('offer decisions', () => {
  it('sends 10% off shoes on the third shoe click within 10 minutes, once', async () => {
    const rig = await offersRig()
    const rule = await rig.addRule(EXAMPLE_RULES.shoesClicks)
    const now = Date.now()
    const click = (n: number, ts: number, anonymousId = 'anon-1') =>
      rig.event({ type: 'ClickedProduct', anonymousId, ts, props: shoe(n) } as never)
    const who = rig.profileKey({ anonymousId: 'anon-1' })
    // Two clicks: not yet. A third one 15 minutes later: only 2 fall in the window.
    await rig.run([click(1, now - 20 * MIN), click(2, now - 6 * MIN)])
    expect(await rig.inbox(who)).toEqual([])
    await rig.run([click(3, now - 5 * MIN)])
    expect(await rig.inbox(who)).toEqual([])
    const third = click(4, now - 1 * MIN)
    await rig.run([third])
    const inbox = await rig.inbox(who)
    expect(inbox).toHaveLength(1)
    expect(inbox[0]).toMatchObject({
      ruleId: rule.id,
      ruleVersion: 1,
      title: '10% off shoes',
      code: 'SHOES10',
      cta: { url: 'https://shop.example/shoes' },
    })
    expect(inbox[0]?.expiresAt).toBeGreaterThan(Date.now())
    // The audience anchor claimed for this shopper expires with the profile.
    expect(await rig.redis.pttl(rig.keys.profileAnchor(who))).toBeGreaterThan(0)
    // The same job again (a crash before completion) and a fourth click (cap 1 a day): nothing new.
    await rig.run([third])
    await rig.run([click(5, now)])
    expect(await rig.inbox(who)).toHaveLength(1)
    // Another shopper is not affected.
    expect(await rig.inbox(rig.profileKey({ anonymousId: 'anon-2' }))).toEqual([])
    // One delivered row, and the trace says why the last click got nothing.
    const rows = await rig.db.select().from(offerOutcomes).where(eq(offerOutcomes.ruleId, rule.id))
    expect(rows.map((r) => [r.kind, r.offerId])).toEqual([['delivered', inbox[0]?.id]])
    const [last] = (await rig.redis.lrange(rig.keys.profileDecisions(who), 0, 0)).map((t) =>
      JSON.parse(t),
    )
    expect(last.rules[0].result).toBe('per-shopper cap reached')
  })

  it('never recommends the product on screen in the offer it fires', async () => {
    const rig = await offersRig()
    const rule = EXAMPLE_RULES.shoesClicks
    await rig.addRule({
      ...rule,
      offer: { ...rule.offer, recommendations: { source: 'personal', count: 2 } },
    })
    const now = Date.now()
    const clicks = [1, 2, 3].map((n) =>
      rig.event({ type: 'ClickedProduct', ts: now - 3 * MIN + n, props: shoe(n) } as never),
    )
    await rig.run(clicks)
    const who = rig.profileKey({ anonymousId: 'anon-1' })
    // The personal list leads with the item clicked last, the one the offer fires on.
    expect((await rig.redis.zrevrange(rig.keys.profileRecs(who), 0, 0))[0]).toBe('shoe-3')
    const [offer] = await rig.inbox(who)
    expect(offer?.products.map((p) => p.id)).toEqual(['shoe-2', 'shoe-1'])
  })

  it('does not send the shoe offer to a shopper who ordered today', async () => {
    const rig = await offersRig()
    await rig.addRule(EXAMPLE_RULES.shoesClicks)
    const now = Date.now()
    // Today in the site's time zone (UTC): 30 minutes ago, or midnight just after it.
    const today = new Date(now).setUTCHours(0, 0, 0, 0)
    const order = rig.event({
      type: 'OrderCompleted',
      ts: Math.max(now - 30 * MIN, today),
      props: { orderId: 'o1', products: [] },
    } as never)
    const clicks = [1, 2, 3].map((n) =>
      rig.event({ type: 'ClickedProduct', ts: now - 3 * MIN + n, props: shoe(n) } as never),
    )
    await rig.run([order, ...clicks])
    const who = rig.profileKey({ anonymousId: 'anon-1' })
    expect(await rig.inbox(who)).toEqual([])
    const traces = (await rig.redis.lrange(rig.keys.profileDecisions(who), 0, -1)).map((t) =>
      JSON.parse(t),
    )
    const why = traces[0].rules[0].why.join('\n')
    expect(why).toContain('✗ none of:')
    expect(why).toContain('OrderCompleted events today is at least 1 (was 1)')
  })

  it('welcomes back a returning, engaged shopper with their personal picks', async () => {
    const rig = await offersRig()
    await rig.addRule(EXAMPLE_RULES.welcomeBack)
    const now = Date.now()
    const user = rig.profileKey({ userId: 'u-7' })
    // History on the user's profile two days ago: 10 orders (weight 10 each, decayed a little).
    const history = Array.from({ length: 10 }, (_, i) =>
      rig.event({
        type: 'OrderCompleted',
        userId: 'u-7',
        verified: true,
        ts: now - 2 * 86_400_000 + i,
        props: { orderId: `o${i}`, products: [{ productId: `p${i}` }] },
      } as never),
    )
    await rig.run(history)
    await rig.redis.zadd(
      rig.keys.profileRecs(user),
      3,
      'rec-a',
      2,
      'rec-b',
      1,
      'rec-c',
      0.5,
      'rec-d',
    )
    await rig.run([
      rig.event({
        type: 'UserLoggedIn',
        userId: 'u-7',
        verified: true,
        anonymousId: 'fresh',
      } as never),
    ])
    const inbox = await rig.inbox(user)
    expect(inbox).toHaveLength(1)
    expect(inbox[0]?.products.map((p) => p.id)).toEqual(['rec-a', 'rec-b', 'rec-c'])
    // A brand-new shopper logging in is not "returning".
    await rig.run([
      rig.event({
        type: 'UserLoggedIn',
        userId: 'u-8',
        verified: true,
        anonymousId: 'new',
      } as never),
    ])
    expect(await rig.inbox(rig.profileKey({ userId: 'u-8' }))).toEqual([])
  })

  it('offers financing on the second expensive view today, only under /products/ and in schedule', async () => {
    const rig = await offersRig()
    await rig.addRule(EXAMPLE_RULES.financing)
    const expired = await rig.addRule({
      ...EXAMPLE_RULES.financing,
      name: 'Old',
      priority: 999,
      schedule: { end: '2026-01-01T00:00:00Z' },
    })
    const view = (ts: number, url: string, price = 450) =>
      rig.event({
        type: 'ProductViewed',
        ts,
        context: { url },
        props: { productId: 'tv', price },
      } as never)
    const now = Date.now()
    const who = rig.profileKey({ anonymousId: 'anon-1' })
    await rig.run([view(now - 2000, 'https://shop.example/products/tv')])
    await rig.run([view(now - 1000, 'https://shop.example/search?q=tv')])
    expect(await rig.inbox(who)).toEqual([])
    // A cheap view on a product page: two expensive views today and the right page → offer.
    await rig.run([view(now, 'https://shop.example/products/socks', 30)])
    const inbox = await rig.inbox(who)
    expect(inbox.map((o) => o.title)).toEqual(['Pay in 12 instalments'])
    expect(inbox[0]?.ruleId).not.toBe(expired.id)
    const [trace] = (await rig.redis.lrange(rig.keys.profileDecisions(who), 0, 0)).map((t) =>
      JSON.parse(t),
    )
    expect(trace.rules.map((r: { result: string }) => r.result)).toEqual([
      'outside its schedule',
      'won: offer sent',
    ])
  })

  it('decides and traces the same with the candidate index as with every rule evaluated', async () => {
    const rig = await offersRig()
    for (let i = 0; i < 160; i++) {
      const spec = ruleInput.parse(benchRule(i))
      await createRule(rig.db, { siteId: rig.siteId, spec, status: 'active', actor: 'test' })
    }
    await rig.rules.reload()
    // A second copy of the pipeline under its own keys, the same rules, every one of them a
    // candidate on every event: it evaluates all conditions, as before the index.
    const every = (index: RuleIndex): RuleIndex =>
      new Map(
        [...index].map(([siteId, site]) => [
          siteId,
          {
            ...site,
            immediate: new Map(
              [...site.immediate].map(([type, list]) => [
                type,
                { rules: list.rules, index: createCandidateIndex(list.rules.map(() => undefined)) },
              ]),
            ),
          },
        ]),
      )
    const keys = createKeys(`${rig.prefix}every:`)
    const deps = { ...rig.deps, keys, rules: () => every(rig.rules.get()) }
    const runEvery = createEventsPipeline({
      config: rig.config,
      redis: rig.deps.redis,
      keys,
      offers: { deps, db: rig.db },
    })
    // Three shoppers browse for half an hour: views and clicks on product pages, carts, orders.
    const now = Date.now()
    const types = ['ProductViewed', 'ClickedProduct', 'ProductViewed', 'AddedToCart']
    const events: StoredEvent[] = []
    for (let i = 0; i < 90; i++) {
      const item = (i * 7919) % 1000
      const order = i % 23 === 22
      events.push(
        rig.event({
          type: order ? 'OrderCompleted' : (types[i % types.length] as 'ProductViewed'),
          anonymousId: `shopper-${i % 3}`,
          ts: now - (90 - i) * 20_000,
          context: { url: `https://shop.example/${order ? 'checkout/thanks' : `p/${item}`}` },
          props: order
            ? { orderId: `o${i}`, products: [{ productId: String(item) }] }
            : {
                productId: String(item),
                category: ['Shoes', 'Fashion', 'Home'][item % 3],
                price: 10 + ((item * 37) % 400),
              },
        } as never),
      )
    }
    for (let i = 0; i < events.length; i += 10) {
      const job = events.slice(i, i + 10)
      await rig.run(job)
      await runEvery({ partition: 0, entryId: `${i + 1}-0`, events: job })
    }
    let decided = 0
    for (const shopper of ['shopper-0', 'shopper-1', 'shopper-2']) {
      const profile = rig.profileKey({ anonymousId: shopper })
      const inbox = async (k: typeof keys) =>
        (await rig.redis.xrange(k.inbox(profile), '-', '+')).map(([, fields]) => {
          const { ruleId, title, products } = JSON.parse(fields[1] as string)
          return { ruleId, title, products }
        })
      const traces = async (k: typeof keys) =>
        (await rig.redis.lrange(k.profileDecisions(profile), 0, -1)).map((raw) => {
          const { at: _at, offerId, ...trace } = JSON.parse(raw)
          return { ...trace, offer: offerId !== undefined }
        })
      const kept = await traces(rig.keys)
      expect(kept).toEqual(await traces(keys))
      expect(await inbox(rig.keys)).toEqual(await inbox(keys))
      decided += kept.length
    }
    expect(decided).toBeGreaterThan(10)
  })
})
