/**
 * @module A progress bar for long CLI commands (`nudge replay`, `nudge import`): done/total, rate
 * and ETA on one redrawn line when the output is a terminal, plain lines at a slow pace when it
 * is not (a log file or CI), so neither floods the output nor stays silent for long.
 */

/** Where progress goes: process.stderr, or anything with `write` in tests. */
export type ProgressOutput = { write(text: string): unknown; isTTY?: boolean; columns?: number }

/** What one progress line shows. */
export type ProgressState = {
  /** Work done and total, in one unit (entries, bytes); `done` may start above 0 on resume. */
  done: number
  total: number
  /** Work done when this run started: the rate and ETA count only this run's work. */
  startDone: number
  /** Things processed in this run, for the rate (defaults to done - startDone). */
  count?: number
  /** Name of what `count` counts, e.g. "events". */
  countUnit: string
  /** Name of what `done` counts when it is shown as done/total (omit to show a percentage only). */
  doneUnit?: string
  elapsedMs: number
}

/** A live progress display. */
export type Progress = {
  /** Records progress; redraws when enough time has passed since the last draw. */
  update(done: number, count?: number): void
  /** Runs `write` (which prints elsewhere) with the bar out of the way, then redraws it. */
  above(write: () => void): void
  /** Draws the final state and ends the line. */
  finish(): void
}

const BAR_WIDTH = 24

/**
 * One progress line, without colour or control characters.
 * @example formatProgress({ done: 50, total: 200, startDone: 0, countUnit: 'entries', doneUnit: 'entries', elapsedMs: 10_000 })
 * // '[######------------------]  25% 50/200 entries · 5.0 entries/s · ETA 0:30'
 */
export function formatProgress(state: ProgressState): string {
  const { done, total, startDone, elapsedMs } = state
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1
  const filled = Math.round(fraction * BAR_WIDTH)
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4)
  const amount =
    state.doneUnit === undefined
      ? ''
      : ` ${formatCount(done)}/${formatCount(total)} ${state.doneUnit}`
  const count = state.count ?? done - startDone
  // Below a second the rate is noise: say nothing rather than something wild.
  const seconds = elapsedMs / 1000
  const rate = seconds >= 1 ? `${formatRate(count / seconds)} ${state.countUnit}/s` : '…'
  const workRate = seconds >= 1 ? (done - startDone) / seconds : 0
  const eta =
    done >= total ? 'done' : workRate > 0 ? formatDuration((total - done) / workRate) : '…'
  return `${bar} ${percent}${amount} · ${rate} · ETA ${eta}`
}

/**
 * A count with thousands separators, the same on every machine's locale.
 * @example formatCount(1234567) // '1,234,567'
 */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

function formatRate(perSecond: number): string {
  return perSecond >= 100 ? formatCount(perSecond) : perSecond.toFixed(1)
}

/**
 * Seconds as m:ss or h:mm:ss.
 * @example formatDuration(3725) // '1:02:05'
 */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = String(total % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`
}

/**
 * Starts a progress display on `out`. On a terminal it redraws one line at most every
 * `ttyEveryMs`; otherwise it prints a plain line at most every `plainEveryMs`.
 * @example
 * const progress = createProgress({ out: process.stderr, total: 1000, countUnit: 'entries', doneUnit: 'entries' })
 * progress.update(500); progress.finish()
 */
export function createProgress(opts: {
  out: ProgressOutput
  total: number
  countUnit: string
  doneUnit?: string
  /** Work already done before this run (a resumed command). */
  startDone?: number
  now?: () => number
  ttyEveryMs?: number
  plainEveryMs?: number
}): Progress {
  const { out } = opts
  const now = opts.now ?? Date.now
  const tty = out.isTTY === true
  const every = tty ? (opts.ttyEveryMs ?? 100) : (opts.plainEveryMs ?? 5_000)
  const startedAt = now()
  const startDone = opts.startDone ?? 0
  let done = startDone
  let count: number | undefined
  let drawnAt = Number.NEGATIVE_INFINITY
  let shown = false

  const line = () =>
    formatProgress({
      done,
      total: opts.total,
      startDone,
      count,
      countUnit: opts.countUnit,
      doneUnit: opts.doneUnit,
      elapsedMs: now() - startedAt,
    })

  const draw = () => {
    drawnAt = now()
    if (tty) {
      // Cut to the terminal's width: a wrapped line cannot be redrawn with \r.
      const columns = out.columns !== undefined && out.columns > 0 ? out.columns : 80
      const width = Math.max(20, columns - 1)
      out.write(`\r${line().slice(0, width)}\x1b[K`)
      shown = true
    } else {
      out.write(`${line()}\n`)
    }
  }

  return {
    update(value, counted) {
      done = value
      count = counted
      if (now() - drawnAt >= every) {
        draw()
      }
    },
    above(write) {
      if (tty && shown) {
        out.write('\r\x1b[K')
        shown = false
      }
      write()
      if (tty) {
        draw()
      }
    },
    finish() {
      draw()
      if (tty) {
        out.write('\n')
        shown = false
      }
    },
  }
}
