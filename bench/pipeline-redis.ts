/**
 * @module A private redis-server for the pipeline bench, on a free loopback port, without
 * persistence (the shared one here has none either). On a machine where other people's tests
 * and benches use the Redis at REDIS_URL, its CPU counts their commands too, and their slow
 * scripts queue ours; a server of our own makes "redis CPU per event" mean ours alone. It runs
 * the same redis-server binary the shared one does, and is stopped by its pid.
 *
 * On that private server, `--profile` also logs every command for one window and sums Redis's
 * time per command and per Lua script (by name: the product's from their files, BullMQ's from
 * its script table), which INFO commandstats cannot do: it lumps every script into EVALSHA.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import { sleep } from './protocol'

export type OwnRedis = { url: string; pid: number; stop(): Promise<void> }

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** True when a `redis-server` binary is on the PATH. */
export function canStartRedis(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0
}

/**
 * @example const own = await startOwnRedis(); …; await own.stop()
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort()
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  const pid = child.pid
  if (pid === undefined) {
    throw new Error('could not start redis-server')
  }
  let gone = false
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      gone = true
      resolve()
    }),
  )
  const url = `redis://127.0.0.1:${port}`
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  // Refused connections while the server starts are expected; the loop below retries them.
  probe.on('error', () => undefined)
  try {
    for (let i = 0; ; i++) {
      try {
        await probe.connect()
        await probe.ping()
        break
      } catch (err) {
        if (i >= 50) {
          process.kill(pid, 'SIGKILL')
          throw new Error(`redis-server did not answer on ${url}: ${String(err)}`)
        }
        probe.disconnect()
        await sleep(100)
      }
    }
  } finally {
    probe.disconnect()
  }
  return {
    url,
    pid,
    async stop() {
      if (gone) {
        return
      }
      process.kill(pid, 'SIGTERM')
      await Promise.race([exited, sleep(10_000)])
      if (!gone) {
        process.kill(pid, 'SIGKILL')
        await exited
      }
    },
  }
}

/** Redis time spent on one top-level command (a script counts as its name, with what it calls). */
export type CommandTime = { name: string; calls: number; usec: number }

/** Lua script SHA1 → name: the product's scripts (by file) and BullMQ's (by its script table). */
async function scriptNames(): Promise<Map<string, string>> {
  const names = new Map<string, string>()
  const sha = (text: string) => createHash('sha1').update(text).digest('hex')
  for (const dir of ['../streams/scripts/', '../workers/scripts/']) {
    const url = new URL(dir, import.meta.url)
    for (const file of await readdir(url).catch(() => [] as string[])) {
      if (file.endsWith('.lua')) {
        names.set(sha(await readFile(new URL(file, url), 'utf8')), file)
      }
    }
  }
  // BullMQ defines its commands from this table; its package exports do not expose it.
  const table = new URL('../node_modules/bullmq/dist/esm/scripts/index.js', import.meta.url)
  try {
    const scripts = (await import(table.href)) as Record<string, unknown>
    for (const script of Object.values(scripts)) {
      if (
        typeof script === 'object' &&
        script !== null &&
        'content' in script &&
        'name' in script &&
        typeof script.content === 'string'
      ) {
        names.set(sha(script.content), `bullmq ${String(script.name)}`)
      }
    }
  } catch {
    // Another BullMQ layout: its scripts are then reported by SHA.
  }
  return names
}

/**
 * Logs every command from now on (SLOWLOG with a 0 µs threshold). Costs Redis time of its
 * own, so only `--profile` runs use it, and only on a private server.
 */
export async function startCommandLog(redis: Redis, maxEntries: number): Promise<void> {
  await redis.config('SET', 'slowlog-max-len', String(maxEntries))
  await redis.config('SET', 'slowlog-log-slower-than', '0')
  await redis.call('SLOWLOG', 'RESET')
}

/** Stops logging and sums the log by command, scripts by name, largest first. */
export async function readCommandLog(redis: Redis): Promise<CommandTime[]> {
  await redis.config('SET', 'slowlog-log-slower-than', '-1')
  const entries = (await redis.call('SLOWLOG', 'GET', '-1')) as unknown[]
  await redis.call('SLOWLOG', 'RESET')
  const names = await scriptNames()
  const byName = new Map<string, CommandTime>()
  for (const entry of entries) {
    if (!Array.isArray(entry)) {
      continue
    }
    // Commands a script runs are logged too, from the Lua client ("?:0"); the script's own
    // entry already holds their time.
    if (String(entry[4] ?? '').startsWith('?')) {
      continue
    }
    const usec = Number(entry[2])
    const args = Array.isArray(entry[3]) ? entry[3].map(String) : []
    const command = (args[0] ?? '?').toLowerCase()
    if (command === 'slowlog' || command === 'config') {
      continue
    }
    const sha = args[1] ?? ''
    const name = command === 'evalsha' ? (names.get(sha) ?? `script ${sha.slice(0, 8)}`) : command
    const row = byName.get(name) ?? { name, calls: 0, usec: 0 }
    row.calls += 1
    row.usec += usec
    byName.set(name, row)
  }
  return [...byName.values()].sort((a, b) => b.usec - a.usec)
}
