/**
 * @module The pipeline bench's child processes: started with an IPC channel (so each child
 * stops when the orchestrator goes away), their stdout read as protocol lines (one JSON object
 * a line, protocol.ts), and stopped by their pid only. `running()` lists what is still up, so an
 * interrupted run stops exactly its own children.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { sleep } from './protocol'

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url))
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url))

export type Child = {
  pid: number
  script: string
  /** The child's next protocol line; rejects on timeout or when the child exits first. */
  next(timeoutMs: number): Promise<unknown>
  exited: Promise<number | null>
  /** Sends a message over the IPC channel (ignored once the child is gone). */
  send(message: object): void
}

const children = new Map<number, Child>()

/** Children still running, by pid. */
export function running(): Child[] {
  return [...children.values()]
}

/**
 * Starts `bench/<script>` under tsx with its stderr passed through.
 * @example const producer = startChild('pipeline-producer.ts', ['--prefix', prefix])
 */
export function startChild(script: string, args: string[]): Child {
  const proc: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(BENCH_DIR, script), ...args],
    { cwd: REPO_ROOT, env: process.env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  )
  const pid = proc.pid
  if (pid === undefined) {
    throw new Error(`could not start ${script}`)
  }
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => {
      children.delete(pid)
      resolve(code)
    })
  })
  const queue: unknown[] = []
  const waiters: ((message: unknown) => void)[] = []
  if (proc.stdout) {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      let message: unknown
      try {
        message = JSON.parse(line)
      } catch {
        process.stderr.write(`${script}: ${line}\n`)
        return
      }
      const waiter = waiters.shift()
      if (waiter) {
        waiter(message)
      } else {
        queue.push(message)
      }
    })
  }
  const next = (timeoutMs: number) => {
    if (queue.length > 0) {
      return Promise.resolve(queue.shift())
    }
    return new Promise<unknown>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer)
        const index = waiters.indexOf(waiter)
        if (index >= 0) {
          waiters.splice(index, 1)
        }
      }
      const waiter = (message: unknown) => {
        done()
        resolve(message)
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`${script} said nothing for ${timeoutMs} ms`))
      }, timeoutMs)
      waiters.push(waiter)
      void exited.then((code) => {
        if (waiters.includes(waiter)) {
          done()
          reject(new Error(`${script} exited (code ${code}) before it was done`))
        }
      })
    })
  }
  const send = (message: object) => {
    if (proc.connected) {
      proc.send(message)
    }
  }
  const child: Child = { pid, script, next, exited, send }
  children.set(pid, child)
  return child
}

/**
 * Lets the child finish on its own for `ownMs`, then sends SIGTERM, then SIGKILL if it has not
 * exited within `graceMs`.
 */
export async function stopChild(child: Child, ownMs: number, graceMs = 20_000): Promise<void> {
  const gone = () => !children.has(child.pid)
  const wait = (ms: number) => Promise.race([child.exited, sleep(ms)])
  if (ownMs > 0) {
    await wait(ownMs)
  }
  if (gone()) {
    return
  }
  process.kill(child.pid, 'SIGTERM')
  await wait(graceMs)
  if (!gone()) {
    process.kill(child.pid, 'SIGKILL')
    await child.exited
  }
}
