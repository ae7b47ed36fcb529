/**
 * The attack matrix: whatever a client presents — another shopper's profile, a forged or
 * expired token, a userId it cannot prove, a foreign origin, no subprotocol — it never receives
 * another profile's offers, and refused upgrades get their status before any handshake.
 */
import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { deliverOffer } from '../streams/inbox'
import { createKeys } from '../streams/keys'
import { signIdentityToken } from '../streams/live-token'
import { profileKey } from '../streams/partition'
import { basic, testApi } from '../test/harness'
import {
  connect,
  type LiveClient,
  sleep,
  startGatewayProcess,
  testOffer,
  tryConnect,
} from '../test/live'

describe('gateway: security', () => {
  it('refuses bad upgrades with 400/401/403/404 and leaks no offer to any other socket', async () => {
    const t = await testApi()
    const gw = await startGatewayProcess({ NUDGE_KEY_PREFIX: t.prefix, DATABASE_SCHEMA: t.schema })
    const siteId = t.site.site.id
    const keys = createKeys(t.prefix)
    const identify = async (body: Record<string, unknown>) => {
      const res = await t.app.request('/v1/identity', {
        method: 'POST',
        headers: { authorization: basic(t.site.writeKey) },
        body: JSON.stringify(body),
      })
      return { status: res.status, body: await res.json() }
    }
    const victim = profileKey(siteId, { userId: 'victim', verified: true })
    const hash = createHmac('sha256', t.site.secret).update('victim').digest('hex')
    const victimToken = (await identify({ userId: 'victim', userHash: hash })).body.token as string

    // Claiming the victim's userId without proof yields no token at all …
    expect((await identify({ userId: 'victim' })).status).toBe(401)
    expect((await identify({ userId: 'victim', userHash: 'f'.repeat(64) })).status).toBe(403)
    // … and an anonymous id spelled like the user is another profile.
    const lookalike = (await identify({ anonymousId: 'victim' })).body.token as string
    const attacker = (await identify({ anonymousId: 'attacker' })).body.token as string
    const forged = await signIdentityToken(
      new Uint8Array(32).fill(1),
      { siteId, userId: 'victim' },
      60_000,
    )
    const expired = await signIdentityToken(
      t.serverKeys.token,
      { siteId, userId: 'victim' },
      1_000,
      Date.now() - 3_600_000,
    )
    const tampered = `${victimToken.slice(0, -4)}AAAA`

    const refused: [string, Parameters<typeof tryConnect>[1], number][] = [
      ['no token', {}, 401],
      ['forged token', { token: forged.token }, 401],
      ['expired token', { token: expired.token }, 401],
      ['tampered token', { token: tampered }, 401],
      ['not a token', { token: 'x'.repeat(5000) }, 401],
      ['wrong origin', { token: victimToken, origin: 'https://evil.example' }, 403],
      ['no subprotocol', { token: victimToken, protocols: [] }, 400],
      ['other subprotocol', { token: victimToken, protocols: ['chat'] }, 400],
      ['other path', { token: victimToken, path: '/v1/other' }, 404],
    ]
    for (const [name, opts, status] of refused) {
      const attempt = await tryConnect(gw.url, opts)
      expect('status' in attempt ? attempt.status : 'connected', name).toBe(status)
      if ('status' in attempt) {
        expect(JSON.parse(attempt.body).error.message, name).toBeTruthy()
      }
    }

    const holders: [string, LiveClient][] = [
      ['attacker', await connect(gw.url, { token: attacker })],
      ['lookalike', await connect(gw.url, { token: lookalike })],
      // Resuming "after" an id from the victim's inbox replays only the attacker's own inbox.
      ['attacker resuming', await connect(gw.url, { token: attacker, last: 'ofr_x' })],
      ['no Origin (native app)', await connect(gw.url, { token: attacker, origin: null })],
    ]
    const victimSocket = await connect(gw.url, { token: victimToken })
    const secret = testOffer({ title: 'For the victim only' })
    await deliverOffer(t.redis, keys, victim, secret)
    await victimSocket.waitFor((fr) => fr.type === 'offer' && fr.offer.id === secret.id)

    // Tries from inside a socket: ack the victim's offer, resume from it, switch to a forged token.
    const [, inside] = holders[0] ?? []
    inside?.send({ type: 'ack', id: secret.id, outcome: 'clicked' })
    inside?.send({ type: 'resume', last: secret.id })
    inside?.send({ type: 'auth', token: forged.token })
    inside?.send({ type: 'auth', token: expired.token })
    await sleep(300)
    for (const [name, client] of holders) {
      expect(client.offers(), name).toEqual([])
    }
    const errors = inside?.frames.filter((fr) => fr.type === 'error').map((fr) => fr.code)
    expect(errors).toEqual(['unknown_offer', 'auth_rejected', 'auth_rejected'])
    expect(await t.redis.exists(keys.inboxAcks(victim))).toBe(0)

    const metrics = await (await fetch(`http://127.0.0.1:${gw.port}/metrics`)).text()
    expect(metrics).toMatch(/nudge_live_drops_total\{reason="token_invalid"\} 2/)
    expect(metrics).toMatch(/nudge_live_drops_total\{reason="origin"\} 1/)
    expect(metrics).toMatch(/nudge_live_connections 5/)
  })
})
