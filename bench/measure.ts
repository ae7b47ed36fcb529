/**
 * @module What the bench reads off processes and samples: CPU time and RSS of any local process
 * from /proc (so the api, the load generator and redis-server are measured the same way, from
 * outside), percentiles, a least-squares slope, and a description of the machine.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'

let ticksPerSecond: number | undefined

/** Kernel clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })
    const parsed = Number.parseInt(out.stdout ?? '', 10)
    ticksPerSecond = Number.isFinite(parsed) && parsed > 0 ? parsed : 100
  }
  return ticksPerSecond
}

/** The process name /proc reports (`redis-server`, `node`, …), or undefined when it is gone. */
export function processName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim()
  } catch {
    return undefined
  }
}

/**
 * User + system CPU milliseconds the process (all its threads) has used so far, or with `thread`
 * that one thread (for Node, the main thread's id is the pid), or undefined when unreadable.
 * @example const before = cpuMs(pid)
 */
export function cpuMs(pid: number, thread?: number): number | undefined {
  let stat: string
  try {
    stat = readFileSync(
      thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`,
      'utf8',
    )
  } catch {
    return undefined
  }
  // The command name may contain spaces and parentheses; the fields after the last ")" do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // Field 3 (state) is fields[0], so utime (14) and stime (15) are fields[11] and fields[12].
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    return undefined
  }
  return ((utime + stime) * 1000) / clockTicks()
}

/** Resident set size in bytes, or undefined when it cannot be read. */
export function rssBytes(pid: number): number | undefined {
  let status: string
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
  return match ? Number(match[1]) * 1024 : undefined
}

/** The q-quantile (0..1) of ascending values, nearest rank; NaN when there are none. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) {
    return Number.NaN
  }
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank] ?? Number.NaN
}

/** Latency percentiles in ms of every sample. */
export type Latency = { p50: number; p90: number; p99: number; max: number }

export function latencyOf(samples: readonly number[]): Latency {
  const sorted = Float64Array.from(samples).sort()
  return {
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: quantile(sorted, 1),
  }
}

/** Least-squares slope of y over x; 0 with fewer than two points. */
export function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length
  if (n < 2) {
    return 0
  }
  let sx = 0
  let sy = 0
  for (const [x, y] of points) {
    sx += x
    sy += y
  }
  const mx = sx / n
  const my = sy / n
  let num = 0
  let den = 0
  for (const [x, y] of points) {
    num += (x - mx) * (y - my)
    den += (x - mx) * (x - mx)
  }
  return den === 0 ? 0 : num / den
}

/** The machine the figures came from, as printed at the top of every run. */
export type Machine = { cpu: string; cores: number; memory: string; node: string; os: string }

export function machine(): Machine {
  let cpu = os.cpus()[0]?.model?.trim() ?? 'unknown'
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8')
    cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpu
  } catch {
    // Not Linux: os.cpus() is as good as it gets.
  }
  return {
    cpu,
    cores: os.availableParallelism(),
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB total, ${(os.freemem() / 2 ** 30).toFixed(1)} GiB free`,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  }
}

/**
 * Busy CPU milliseconds of the whole machine so far (all cores, everything but idle and
 * iowait), to tell how much of it other processes took during a measurement.
 */
export function machineBusyMs(): number | undefined {
  let stat: string
  try {
    stat = readFileSync('/proc/stat', 'utf8')
  } catch {
    return undefined
  }
  const fields = (stat.split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal; guest time is already inside user.
  const busy = fields.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0)
  return Number.isFinite(busy) ? (busy * 1000) / clockTicks() : undefined
}
