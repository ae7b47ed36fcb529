/**
 * `nudge start` (role all) serves the live gateway on the api's own port: a token from
 * POST /v1/identity opens /v1/live there, and an offer delivered for that profile arrives.
 */
import { createHmac } from 'node:crypto'
import { describe, expect, it, onTestFinished } from 'vitest'
import { deriveServerKeys } from '../runtime/secret-key'
import { deliverOffer } from '../streams/inbox'
import { createKeys } from '../streams/keys'
import { verifyIdentityToken } from '../streams/live-token'
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../test/db'
import { TEST_SECRET_KEY } from '../test/harness'
import { connect, startGatewayProcess, testOffer } from '../test/live'
import { testRedis } from '../test/redis'

describe('nudge start (all roles, one port)', () => {
  it('issues a user token and pushes that user’s offer over /v1/live on the same port', async () => {
    const { redis, prefix } = await testRedis()
    const schema = uniqueSchema()
    onTestFinished(() => dropSchema(schema))
    const writeKey = `wk_demo_${schema}`
    const secret = `sk_demo_${schema}`
    const all = await startGatewayProcess(
      {
        NUDGE_KEY_PREFIX: prefix,
        DATABASE_URL: TEST_DATABASE_URL,
        DATABASE_SCHEMA: schema,
        NUDGE_DEMO_WRITE_KEY: writeKey,
        NUDGE_DEMO_SECRET: secret,
        NUDGE_SECRET_KEY: TEST_SECRET_KEY.toString('hex'),
      },
      0,
      'all',
    )
    const http = `http://127.0.0.1:${all.port}`
    const res = await fetch(`${http}/v1/identity`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
        origin: 'http://localhost:5173',
      },
      body: JSON.stringify({
        anonymousId: 'a-1',
        userId: 'u-1',
        userHash: createHmac('sha256', secret).update('u-1').digest('hex'),
      }),
    })
    const body = await res.json()
    expect(res.status, JSON.stringify(body)).toBe(200)
    const client = await connect(all.url, { token: body.token })
    expect(client.frames[0]).toMatchObject({ type: 'hello', profile: 'u:u-1' })
    const identity = await verifyIdentityToken(deriveServerKeys(TEST_SECRET_KEY).token, body.token)
    if ('reason' in identity) {
      throw new Error(`token did not verify: ${identity.reason}`)
    }
    const offer = testOffer()
    await deliverOffer(redis, createKeys(prefix), identity.profileKey, offer)
    await client.waitFor((fr) => fr.type === 'offer' && fr.offer.id === offer.id)
    await all.stop('SIGTERM')
    expect((await client.closed).code).toBe(1001)
  })
})
