/**
 * @module A loopback TCP proxy a test can take down and bring back, to make a real service
 * (Redis) unreachable for one client without touching the service other tests share.
 */
import { connect, createServer, type Socket } from 'node:net'
import { onTestFinished } from 'vitest'

export type TcpProxy = { port: number; down(): void; up(): void }

/**
 * @example const proxy = await tcpProxy(6379); proxy.down(); … proxy.up()
 */
export async function tcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let open = true
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    if (!open) {
      client.destroy()
      return
    }
    const upstream = connect(targetPort, targetHost)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) {
          s.destroy()
        }
        server.close(() => resolve())
      }),
  )
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    down() {
      open = false
      for (const s of sockets) {
        s.destroy()
      }
    },
    up() {
      open = true
    },
  }
}
