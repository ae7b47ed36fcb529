/**
 * @module For `npm start` on a newcomer's machine: use the Redis on 127.0.0.1:6379 when one
 * answers, else start a `redis-server` child (AOF persistence under the data directory) on a
 * free loopback port, else explain how to get Redis. Operators set REDIS_URL and never get here.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { join, resolve } from 'node:path'

function answers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((done) => {
    const socket = new Socket()
    const finish = (ok: boolean) => {
      socket.destroy()
      done(ok)
    }
    socket.setTimeout(500, () => finish(false))
    socket.once('error', () => finish(false))
    socket.connect(port, host, () => {
      socket.write('PING\r\n')
    })
    socket.once('data', (data) => finish(data.toString().startsWith('+PONG')))
  })
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer()
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => done(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** What `ensureRedis` settled on; `stop` ends the child when there is one. */
export type LocalRedis = { url: string; child?: ChildProcess; stop(): Promise<void> }

/**
 * `probePort` is where an existing Redis is looked for (6379; tests pass another).
 * @example const redis = await ensureRedis('.data', log.info)
 */
export async function ensureRedis(
  dataDir: string,
  say: (line: string) => void,
  opts: { probePort?: number } = {},
): Promise<LocalRedis> {
  const probePort = opts.probePort ?? 6379
  if (await answers(probePort)) {
    return { url: `redis://127.0.0.1:${probePort}`, stop: async () => {} }
  }
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    throw new Error(
      `No Redis answers on 127.0.0.1:${probePort} and redis-server is not on the PATH.\n` +
        'Install Redis 7 (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis),\n' +
        'or point REDIS_URL at one (for example redis://127.0.0.1:6379).',
    )
  }
  const dir = resolve(join(dataDir, 'redis'))
  mkdirSync(dir, { recursive: true })
  const port = await freePort()
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--save',
      '',
    ],
    { stdio: 'ignore' },
  )
  for (let i = 0; i < 50 && !(await answers(port)); i++) {
    await new Promise((r) => setTimeout(r, 100))
  }
  if (!(await answers(port))) {
    child.kill('SIGKILL')
    throw new Error(`redis-server did not start on 127.0.0.1:${port}; data dir ${dir}`)
  }
  say(`Started redis-server on 127.0.0.1:${port} (AOF persistence in ${dir})`)
  return {
    url: `redis://127.0.0.1:${port}`,
    child,
    stop: () =>
      new Promise<void>((done) => {
        child.once('exit', () => done())
        child.kill('SIGTERM')
      }),
  }
}
