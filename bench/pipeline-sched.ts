/**
 * @module How long a thread sat runnable but without a CPU, from /proc/<pid>/task/<tid>/schedstat
 * (time on CPU, time waiting on a run queue, in ns). On a shared 2-core machine this is what
 * tells a slow pipeline from a starved one: a workers main thread that waits for a CPU as long
 * as it runs is measuring its neighbours, not itself. measure.ts (bench:ingest's) has CPU time
 * but not this.
 */
import { readFileSync } from 'node:fs'

/**
 * Milliseconds the thread (default: the main thread, whose id is the pid) has spent waiting on
 * a run queue so far, or undefined when unreadable (not Linux, no schedstats, process gone).
 * @example const before = runQueueMs(redisPid)
 */
export function runQueueMs(pid: number, thread: number = pid): number | undefined {
  try {
    const [, waitNs] = readFileSync(`/proc/${pid}/task/${thread}/schedstat`, 'utf8')
      .trim()
      .split(' ')
      .map(Number)
    return waitNs === undefined || !Number.isFinite(waitNs) ? undefined : waitNs / 1e6
  } catch {
    return undefined
  }
}
