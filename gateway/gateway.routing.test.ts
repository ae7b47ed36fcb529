/**
 * Two gateway processes, clients on each: an offer reaches every socket of its profile on
 * whichever node, and nothing else; `hello` comes first; a login mid-page (`auth`) moves the
 * socket to the user's channel without reconnecting.
 */
import { describe, expect, it } from 'vitest'
import type { LiveClient } from '../test/live'
import { connect, liveFixture, sleep, testOffer } from '../test/live'

describe('gateway: routing across two nodes', () => {
  it('delivers each offer to every socket of its profile, on both nodes, and to no other', async () => {
    const f = await liveFixture()
    const [one, two] = await Promise.all([f.startGateway(), f.startGateway()])
    const alice = { anonymousId: 'alice' }
    const bob = { anonymousId: 'bob' }
    const carol = { userId: 'carol' }
    const clients: [string, LiveClient][] = [
      ['alice@1', await connect(one.url, { token: await f.token(alice) })],
      ['alice@2', await connect(two.url, { token: await f.token(alice) })],
      ['bob@2', await connect(two.url, { token: await f.token(bob) })],
      ['carol@1', await connect(one.url, { token: await f.token(carol) })],
    ]
    for (const [name, client] of clients) {
      expect(client.frames[0], name).toMatchObject({
        type: 'hello',
        resume: { mode: 'latest', last: null },
      })
    }
    expect(clients[3]?.[1].frames[0]).toMatchObject({ profile: 'u:carol' })

    const sent = {
      alice: [testOffer(), testOffer()],
      bob: [testOffer()],
      carol: [testOffer()],
    }
    for (const offer of sent.alice) {
      await f.deliver(f.profile(alice), offer)
    }
    await f.deliver(f.profile(bob), sent.bob[0] ?? testOffer())
    await f.deliver(f.profile(carol), sent.carol[0] ?? testOffer())
    // A profile nobody here holds: delivered to its inbox only.
    await f.deliver(f.profile({ anonymousId: 'dave' }), testOffer())

    const expected: Record<string, string[]> = {
      'alice@1': sent.alice.map((o) => o.id),
      'alice@2': sent.alice.map((o) => o.id),
      'bob@2': sent.bob.map((o) => o.id),
      'carol@1': sent.carol.map((o) => o.id),
    }
    for (const [name, client] of clients) {
      const ids = expected[name] ?? []
      await client.waitFor((fr) => fr.type === 'offer' && fr.offer.id === ids.at(-1))
    }
    await sleep(200)
    for (const [name, client] of clients) {
      expect(
        client.offers().map((o) => o.id),
        name,
      ).toEqual(expected[name])
    }
    const offer = clients[0]?.[1].offers()[0]
    expect(offer).toEqual(sent.alice[0])
  })

  it('auth moves a socket to the logged-in user without reconnecting; same site only', async () => {
    const f = await liveFixture()
    const gw = await f.startGateway()
    const anon = { anonymousId: 'eve-browser' }
    const user = { userId: 'eve', anonymousId: 'eve-browser' }
    const waiting = testOffer({ title: 'For eve, decided before login' })
    await f.deliver(f.profile(user), waiting)
    const client = await connect(gw.url, { token: await f.token(anon) })

    client.send({ type: 'auth', token: await f.token(user) })
    await client.waitFor((fr) => fr.type === 'hello' && fr.profile === 'u:eve')
    // Latest on subscribe for the new profile.
    await client.waitFor((fr) => fr.type === 'offer' && fr.offer.id === waiting.id)

    const forUser = testOffer()
    const forAnon = testOffer()
    await f.deliver(f.profile(anon), forAnon)
    await f.deliver(f.profile(user), forUser)
    await client.waitFor((fr) => fr.type === 'offer' && fr.offer.id === forUser.id)
    await sleep(150)
    expect(client.offers().map((o) => o.id)).toEqual([waiting.id, forUser.id])

    const { signIdentityToken } = await import('../streams/live-token')
    const foreign = await signIdentityToken(
      f.serverKeys.token,
      { siteId: 'sit_other', userId: 'eve' },
      60_000,
    )
    client.send({ type: 'auth', token: foreign.token })
    const refused = await client.waitFor((fr) => fr.type === 'error')
    expect(refused).toMatchObject({ code: 'auth_rejected' })
    client.send({ type: 'auth', token: 'garbage' })
    await client.waitFor((fr) => fr.type === 'error' && fr.message.includes('malformed'))
    const still = testOffer()
    await f.deliver(f.profile(user), still)
    await client.waitFor((fr) => fr.type === 'offer' && fr.offer.id === still.id)
    expect(client.ws.readyState).toBe(client.ws.OPEN)
  })
})
