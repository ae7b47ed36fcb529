/**
 * Recovery: latest on subscribe, `?last=` / `resume` replay from the inbox, acks that stop
 * replays and become events once, and a gateway killed with SIGKILL while offers are being
 * delivered — every client reconnects to the other node and gets each missed offer exactly once.
 */
import { describe, expect, it } from 'vitest'
import { ackEventId } from '../gateway/acks'
import type { Offer } from '../streams/offers'
import { connect, liveFixture, resilientClient, sleep, testOffer } from '../test/live'
import { readLog } from '../test/log'
import { TEST_REDIS_URL } from '../test/redis'
import { tcpProxy } from '../test/tcp-proxy'
import { until } from '../test/until'

describe('gateway: recovery', () => {
  it('sends the newest valid unacked offer on connect, replays after ?last=, and acks once', async () => {
    const f = await liveFixture()
    const gw = await f.startGateway()
    const who = { anonymousId: 'ann' }
    const profile = f.profile(who)
    const token = await f.token(who)
    const [o1, o2] = [testOffer(), testOffer()]
    await f.deliver(profile, o1)
    await f.deliver(profile, o2)

    const first = await connect(gw.url, { token })
    await first.waitFor((fr) => fr.type === 'offer')
    expect(first.offers().map((o) => o.id)).toEqual([o2.id])
    first.send({ type: 'ack', id: o2.id, outcome: 'shown' })
    await until(
      () => f.redis.zrange(f.keys.inboxAcks(profile), 0, -1),
      (acked) => acked.includes(o2.id),
    )

    // o2 was shown: a second tab gets the newest offer not yet acknowledged.
    const second = await connect(gw.url, { token })
    await second.waitFor((fr) => fr.type === 'offer')
    expect(second.offers().map((o) => o.id)).toEqual([o1.id])

    const expired = testOffer({ expiresAt: Date.now() - 1 })
    const o4 = testOffer()
    await f.deliver(profile, expired)
    await f.deliver(profile, o4)
    for (const client of [first, second]) {
      await client.waitFor((fr) => fr.type === 'offer' && fr.offer.id === o4.id)
      expect(client.offers().map((o) => o.id)).not.toContain(expired.id)
    }

    // Reconnect after o1: o2 (acked) and the expired one are skipped.
    const third = await connect(gw.url, { token, last: o1.id })
    expect(third.frames[0]).toMatchObject({ type: 'hello', resume: { mode: 'after', last: o1.id } })
    await third.waitFor((fr) => fr.type === 'offer')
    third.send({ type: 'resume', last: o1.id })
    await sleep(200)
    expect(third.offers().map((o) => o.id)).toEqual([o4.id])

    // Acks: repeated and from two tabs count once; an unknown offer is refused.
    first.send({ type: 'ack', id: o4.id, outcome: 'clicked' })
    first.send({ type: 'ack', id: o4.id, outcome: 'clicked' })
    second.send({ type: 'ack', id: o4.id, outcome: 'clicked' })
    second.send({ type: 'ack', id: 'ofr_not_in_inbox', outcome: 'shown' })
    await second.waitFor((fr) => fr.type === 'error' && fr.code === 'unknown_offer')
    second.send({ type: 'ack', id: o4.id, outcome: 'maybe' })
    await second.waitFor((fr) => fr.type === 'error' && fr.code === 'bad_frame')
    const log = await until(
      () => readLog(f.redis, f.prefix, 4),
      (events) => events.length >= 2,
    )
    await sleep(200)
    const final = await readLog(f.redis, f.prefix, 4)
    expect(final.map((e) => [e.type, e.id]).sort()).toEqual(
      [
        ['OfferClicked', ackEventId(o4.id, 'clicked')],
        ['OfferShown', ackEventId(o2.id, 'shown')],
      ].sort(),
    )
    expect(log.find((e) => e.type === 'OfferShown')).toMatchObject({
      anonymousId: 'ann',
      siteId: f.siteId,
      verified: false,
      props: { offerId: o2.id, ruleId: o2.ruleId, ruleVersion: 1 },
    })
  })

  it('kill -9 of a node mid-delivery: every client resumes on the other and gets each offer once', async () => {
    const f = await liveFixture()
    const [one, two] = await Promise.all([f.startGateway(), f.startGateway()])
    const shoppers = Array.from({ length: 8 }, (_, i) => ({ anonymousId: `shopper-${i}` }))
    const clients = await Promise.all(
      shoppers.map(async (who, i) => {
        // Half start on node one, half on node two; each fails over to the other.
        const urls = i % 2 === 0 ? [one.url, two.url] : [two.url, one.url]
        const client = resilientClient(urls, await f.token(who))
        await client.ready
        return client
      }),
    )
    await sleep(300)
    const sent = new Map<string, Offer[]>(shoppers.map((w) => [f.profile(w), []]))
    const expectedOf = (i: number) =>
      sent.get(f.profile({ anonymousId: `shopper-${i}` }))?.map((o) => o.id) ?? []
    const done = () => clients.every((c, i) => c.received.length >= expectedOf(i).length)
    const rounds = 60
    for (let round = 0; round < rounds; round++) {
      if (round === 20) {
        one.child.kill('SIGKILL')
      }
      if (round === 30) {
        // Ten offers each were decided while half the clients were down. The inbox holds 20,
        // so let everyone catch up before going on: on a loaded machine a reconnect can take
        // longer than 20 more rounds, and what the inbox no longer holds is gone by design.
        await until(
          async () => done(),
          (ok) => ok,
          10_000,
        )
      }
      for (const [profile, offers] of sent) {
        const offer = testOffer()
        offers.push(offer)
        await f.deliver(profile, offer)
      }
      await sleep(40)
    }
    await until(
      async () => done(),
      (ok) => ok,
      10_000,
    )
    await sleep(300)
    for (const c of clients) {
      c.stop()
    }
    clients.forEach((client, i) => {
      expect(
        client.received.map((o) => o.id),
        `shopper-${i} (closes ${client.closes})`,
      ).toEqual(expectedOf(i))
    })
    // The clients of the killed node did reconnect (abnormal close 1006).
    expect(clients.filter((c) => c.closes.includes(1006)).length).toBe(4)
  })
})

describe('gateway: Redis outage', () => {
  it('after its subscriber reconnects, catches every socket up with offers published meanwhile', async () => {
    const f = await liveFixture()
    const proxy = await tcpProxy(Number(new URL(TEST_REDIS_URL).port || 6379))
    const gw = await f.startGateway({ REDIS_URL: `redis://127.0.0.1:${proxy.port}` })
    const who = { anonymousId: 'through-outage' }
    const client = await connect(gw.url, { token: await f.token(who) })
    const before = testOffer()
    await f.deliver(f.profile(who), before)
    await client.waitFor((fr) => fr.type === 'offer' && fr.offer.id === before.id)

    proxy.down()
    await sleep(300)
    const during = [testOffer(), testOffer()]
    for (const offer of during) {
      await f.deliver(f.profile(who), offer)
    }
    proxy.up()
    const last = during.at(-1)?.id
    // Generous: the subscriber's reconnect backoff plus a loaded CI machine.
    await client.waitFor((fr) => fr.type === 'offer' && fr.offer.id === last, 20_000)
    const after = testOffer()
    await f.deliver(f.profile(who), after)
    await client.waitFor((fr) => fr.type === 'offer' && fr.offer.id === after.id, 5_000)
    expect(client.offers().map((o) => o.id)).toEqual([before, ...during, after].map((o) => o.id))
  })
})
