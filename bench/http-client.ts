/**
 * @module A minimal keep-alive HTTP/1.1 client for the load generator: one request in flight per
 * connection (no pipelining, as browsers and balancers do), the request written with one
 * `write`, the answer read by Content-Length or chunked encoding.
 *
 * Why not node:http: on the 2-core machine the bench runs on, its client costs ~300 µs of CPU
 * per request, so at the 5,000 req/s of the 100k events/s target the generator alone would need
 * ~1.7 cores and starve the api it measures. This one costs a small fraction of that. It speaks
 * only what the bench needs: POST with a body, status and body back.
 */
import net from 'node:net'

/** What came back: the status and the raw body. */
export type HttpAnswer = { status: number; body: Buffer }

const HEADER_END = Buffer.from('\r\n\r\n')

type Pending = { resolve(answer: HttpAnswer): void; reject(err: Error): void }

/** One keep-alive connection; reconnects by itself on the next request after a close. */
export type Connection = {
  /** Sends one request; rejects if the connection fails before the answer is complete. */
  request(head: string, body: string): Promise<HttpAnswer>
  readonly busy: boolean
  close(): void
}

/**
 * @example const c = connect('127.0.0.1', 3000); const { status } = await c.request(head, body)
 */
export function connect(host: string, port: number): Connection {
  let socket: net.Socket | undefined
  let pending: Pending | undefined
  let buffer: Buffer = Buffer.alloc(0)

  const fail = (err: Error) => {
    const p = pending
    pending = undefined
    buffer = Buffer.alloc(0)
    socket?.destroy()
    socket = undefined
    p?.reject(err)
  }

  const onData = (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
    const answer = parse()
    if (answer === undefined) {
      return
    }
    const p = pending
    pending = undefined
    if (answer.close) {
      socket?.destroy()
      socket = undefined
    }
    p?.resolve({ status: answer.status, body: answer.body })
  }

  /** A complete answer at the start of `buffer`, consumed; undefined until one is there. */
  const parse = (): { status: number; body: Buffer; close: boolean } | undefined => {
    const end = buffer.indexOf(HEADER_END)
    if (end < 0) {
      return undefined
    }
    const head = buffer.toString('latin1', 0, end)
    const status = Number(head.slice(9, 12))
    const lower = head.toLowerCase()
    const close = lower.includes('\r\nconnection: close')
    const lengthMatch = /\r\ncontent-length:\s*(\d+)/.exec(lower)
    const start = end + HEADER_END.length
    if (lengthMatch) {
      const length = Number(lengthMatch[1])
      if (buffer.length < start + length) {
        return undefined
      }
      const body = buffer.subarray(start, start + length)
      buffer = buffer.subarray(start + length)
      return { status, body, close }
    }
    if (lower.includes('\r\ntransfer-encoding: chunked')) {
      const parts: Buffer[] = []
      let at = start
      for (;;) {
        const lineEnd = buffer.indexOf('\r\n', at)
        if (lineEnd < 0) {
          return undefined
        }
        const size = Number.parseInt(buffer.toString('latin1', at, lineEnd), 16)
        const dataStart = lineEnd + 2
        if (buffer.length < dataStart + size + 2) {
          return undefined
        }
        if (size === 0) {
          buffer = buffer.subarray(dataStart + 2)
          return { status, body: Buffer.concat(parts), close }
        }
        parts.push(buffer.subarray(dataStart, dataStart + size))
        at = dataStart + size + 2
      }
    }
    // No length and not chunked: the body runs to the close; the bench's server never does this.
    fail(new Error('answer without Content-Length or chunked encoding'))
    return undefined
  }

  const open = (): net.Socket => {
    const s = net.connect({ host, port, noDelay: true })
    s.on('data', onData)
    s.on('error', (err) => fail(err))
    s.on('close', () => {
      if (socket === s) {
        socket = undefined
        if (pending) {
          fail(Object.assign(new Error('connection closed'), { code: 'ECONNRESET' }))
        }
      }
    })
    return s
  }

  return {
    request(head, body) {
      if (pending) {
        return Promise.reject(new Error('connection busy'))
      }
      socket ??= open()
      const s = socket
      return new Promise<HttpAnswer>((resolve, reject) => {
        pending = { resolve, reject }
        s.write(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
      })
    },
    get busy() {
      return pending !== undefined
    },
    close() {
      socket?.destroy()
      socket = undefined
    },
  }
}

/**
 * The request line and headers up to (not including) Content-Length, built once.
 * @example const head = requestHead('POST', '/v1/events', '127.0.0.1:3000', { 'Content-Type': 'application/json' })
 */
export function requestHead(
  method: string,
  path: string,
  host: string,
  headers: Record<string, string>,
): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`)
  return `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n${lines.join('')}`
}
