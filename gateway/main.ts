/**
 * @module The gateway role's wiring: its HTTP server (/healthz, /readyz, /metrics) with the
 * WebSocket upgrade handler attached, and a `close` that moves clients away (1001) before the
 * server stops. bin/nudge.ts calls it for `--role gateway`; role `all` attaches
 * `createGateway` to the api's server instead.
 */
import type { Server } from 'node:http'
import { serveHealth } from '../runtime/health-server'
import { createGateway, type Gateway, type GatewayDeps } from './gateway'

/**
 * Serves the gateway on `port` (0 = any free port).
 * @example const gw = await startGateway({ ...deps, port: 3002, host: '0.0.0.0', readiness: {} })
 */
export async function startGateway(
  deps: GatewayDeps & {
    port: number
    host: string
    /** Readiness checks beyond Redis, by name. */
    readiness: Record<string, () => Promise<unknown>>
  },
): Promise<{ port: number; server: Server; gateway: Gateway; close(): Promise<void> }> {
  const gateway = createGateway(deps)
  const health = await serveHealth({
    port: deps.port,
    host: deps.host,
    registry: deps.metrics.registry,
    checks: {
      redis: () => deps.redis.ping(),
      subscriber: async () => {
        if (deps.subscriber.status !== 'ready') {
          throw new Error(`subscriber connection is ${deps.subscriber.status}`)
        }
      },
      ...deps.readiness,
    },
  })
  health.server.on('upgrade', gateway.handleUpgrade)
  return {
    port: health.port,
    server: health.server,
    gateway,
    close: async () => {
      await gateway.close()
      await health.close()
    },
  }
}
