/**
 * @module Reading request bodies within limits: the raw body is read up to `maxBytes`, gzip is
 * undone (by Content-Encoding or by its magic bytes, since one Segment client labels gzip as
 * form data) with the same cap on the inflated size, and the text is parsed as JSON whatever
 * the Content-Type says. Every failure is an ApiError naming the limit or the problem.
 */
import type { IncomingMessage } from 'node:http'
import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'
import type { Context } from 'hono'
import type { HonoEnv } from './context'
import { ApiError } from './errors'

const gunzipAsync = promisify(gunzip)

function kb(bytes: number): string {
  return `${Math.round(bytes / 1024)} KB`
}

async function readRaw(c: Context<HonoEnv>, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(c.req.header('content-length'))
  if (declared > maxBytes) {
    throw new ApiError(
      'PAYLOAD_TOO_LARGE',
      `Body is ${declared} bytes; the limit is ${kb(maxBytes)} (${maxBytes} bytes). Send fewer events per request.`,
    )
  }
  const tooLarge = () =>
    new ApiError(
      'PAYLOAD_TOO_LARGE',
      `Body exceeds the limit of ${kb(maxBytes)} (${maxBytes} bytes). Send fewer events per request.`,
    )
  const chunks: Uint8Array[] = []
  let total = 0
  // On @hono/node-server, read the Node request itself: touching `c.req.raw.body` would build a
  // web Request, stream and AbortSignal per request, a fifth of the api's CPU in the ingest bench.
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
  if (incoming) {
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        total += chunk.byteLength
        if (total > maxBytes) {
          // Stop keeping the body but let it drain, so the 413 still reaches the client.
          incoming.off('data', onData)
          incoming.resume()
          reject(tooLarge())
          return
        }
        chunks.push(chunk)
      }
      incoming.on('data', onData)
      incoming.once('end', resolve)
      incoming.once('error', reject)
    })
  } else {
    const stream = c.req.raw.body
    if (!stream) {
      return new Uint8Array(0)
    }
    const reader = stream.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) {
        break
      }
      total += value.byteLength
      if (total > maxBytes) {
        await reader.cancel()
        throw tooLarge()
      }
      chunks.push(value)
    }
  }
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks)
}

async function inflate(
  raw: Uint8Array,
  c: Context<HonoEnv>,
  maxBytes: number,
): Promise<Uint8Array> {
  const encoding = (c.req.header('content-encoding') ?? '').trim().toLowerCase()
  const looksGzip = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b
  if (encoding !== '' && encoding !== 'identity' && encoding !== 'gzip') {
    throw new ApiError(
      'UNSUPPORTED_ENCODING',
      `Content-Encoding "${encoding}" is not supported; send the body plain or gzip-compressed.`,
    )
  }
  if (encoding !== 'gzip' && !looksGzip) {
    return raw
  }
  try {
    return await gunzipAsync(raw, { maxOutputLength: maxBytes })
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ApiError(
        'PAYLOAD_TOO_LARGE',
        `Decompressed body exceeds the limit of ${kb(maxBytes)} (${maxBytes} bytes). Send fewer events per request.`,
      )
    }
    throw new ApiError(
      'BAD_REQUEST',
      'Body is labelled or looks gzip-compressed but does not inflate.',
    )
  }
}

/**
 * Reads, inflates and parses the body as JSON. The returned value is untrusted.
 * @example const body = await readJsonBody(c, 500 * 1024)
 */
export async function readJsonBody(c: Context<HonoEnv>, maxBytes: number): Promise<unknown> {
  const parsed = await readOptionalJsonBody(c, maxBytes)
  if (parsed === undefined) {
    throw new ApiError('INVALID_JSON', 'Body is empty; expected a JSON object.')
  }
  return parsed
}

/**
 * `readJsonBody` for a route whose body is optional: undefined when none was sent, whether the
 * request says so with `Content-Length: 0`, sends no length at all, or is chunked.
 * @example const options = (await readOptionalJsonBody(c, 16_384)) ?? {}
 */
export async function readOptionalJsonBody(
  c: Context<HonoEnv>,
  maxBytes: number,
): Promise<unknown> {
  const bytes = await inflate(await readRaw(c, maxBytes), c, maxBytes)
  if (bytes.length === 0) {
    return undefined
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new ApiError('INVALID_JSON', `Body is not valid JSON: ${(err as Error).message}`)
  }
}
