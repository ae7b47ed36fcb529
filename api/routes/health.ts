/** @module /healthz (the process answers), /readyz (Redis and the database answer), /metrics. */
import type { Hono } from 'hono'
import type { HonoEnv } from '../context'

export function register(app: Hono<HonoEnv>): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }))

  app.get('/readyz', async (c) => {
    const { redis, readiness } = c.get('services')
    const checks: Record<string, () => Promise<unknown>> = {
      redis: () => redis.ping(),
      ...readiness,
    }
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await check()
          return [name, 'ok'] as const
        } catch (err) {
          return [name, `failed: ${(err as Error).message}`] as const
        }
      }),
    )
    const ready = results.every(([, state]) => state === 'ok')
    return c.json(
      { status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) },
      ready ? 200 : 503,
    )
  })

  app.get('/metrics', async (c) => {
    const { registry } = c.get('services').metrics
    return c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType })
  })
}
