/**
 * @module Serves an app on a real loopback port for tests that drive it with real clients,
 * recording each answer's status; closed when the test ends.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { Hono } from 'hono'
import { onTestFinished } from 'vitest'
import type { HonoEnv } from '../api/context'

/**
 * @example const { url, statuses } = await serveApp(app)
 */
export async function serveApp(app: Hono<HonoEnv>): Promise<{ url: string; statuses: number[] }> {
  const statuses: number[] = []
  const { url } = await serveFetch(async (request, env) => {
    const response = await app.fetch(request, env)
    statuses.push(response.status)
    return response
  })
  return { url, statuses }
}

type Fetch = Parameters<typeof serve>[0]['fetch']

/**
 * Serves a fetch handler on a free loopback port, closed when the test ends.
 * @example const { url, server } = await serveFetch((request) => app.fetch(request))
 */
export async function serveFetch(fetch: Fetch): Promise<{ url: string; server: Server }> {
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server)) as Server
  })
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}
