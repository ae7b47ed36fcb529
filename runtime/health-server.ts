/**
 * @module A small HTTP server for roles without an api of their own (workers): /healthz,
 * /readyz (every check passes) and /metrics, the same answers the api gives.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'

/**
 * @example const health = await serveHealth({ port: 3001, host: '0.0.0.0', registry, checks: { redis: () => redis.ping() } })
 */
export async function serveHealth(opts: {
  port: number
  host: string
  registry: Registry
  checks: Record<string, () => Promise<unknown>>
}): Promise<{ port: number; server: Server; close(): Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    }
    if (req.url === '/healthz') {
      return json(200, { status: 'ok' })
    }
    if (req.url === '/readyz') {
      const results: Record<string, string> = {}
      for (const [name, check] of Object.entries(opts.checks)) {
        try {
          await check()
          results[name] = 'ok'
        } catch (err) {
          results[name] = `failed: ${(err as Error).message}`
        }
      }
      const ready = Object.values(results).every((r) => r === 'ok')
      return json(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks: results })
    }
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': opts.registry.contentType })
      return res.end(await opts.registry.metrics())
    }
    return json(404, {
      error: { code: 'NOT_FOUND', message: 'Try /healthz, /readyz or /metrics.' },
    })
  })
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host, resolve))
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
