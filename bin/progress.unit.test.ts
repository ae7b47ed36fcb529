import { describe, expect, it } from 'vitest'
import { createProgress, formatDuration, formatProgress } from './progress'

describe('formatProgress', () => {
  it('shows the bar, done/total, rate and ETA', () => {
    expect(
      formatProgress({
        done: 50,
        total: 200,
        startDone: 0,
        countUnit: 'entries',
        doneUnit: 'entries',
        elapsedMs: 10_000,
      }),
    ).toBe('[######------------------]  25% 50/200 entries · 5.0 entries/s · ETA 0:30')
  })

  it('counts only this run for rate and ETA, and says nothing wild in the first second', () => {
    const resumed = { total: 1000, startDone: 500, countUnit: 'events' }
    expect(formatProgress({ ...resumed, done: 600, count: 2500, elapsedMs: 2000 })).toBe(
      '[##############----------]  60% · 1,250 events/s · ETA 0:08',
    )
    expect(formatProgress({ ...resumed, done: 510, elapsedMs: 200 })).toMatch(/ · … · ETA …$/)
    expect(formatProgress({ ...resumed, done: 1000, elapsedMs: 9000 })).toMatch(
      / 100% .* ETA done$/,
    )
    expect(formatProgress({ ...resumed, total: 0, done: 0, startDone: 0, elapsedMs: 0 })).toMatch(
      /^\[#{24}\] 100%/,
    )
  })
})

describe('formatDuration', () => {
  it('writes m:ss or h:mm:ss', () => {
    expect(formatDuration(5)).toBe('0:05')
    expect(formatDuration(3725)).toBe('1:02:05')
  })
})

describe('createProgress', () => {
  function output(isTTY: boolean) {
    const writes: string[] = []
    return { writes, out: { isTTY, columns: 60, write: (text: string) => writes.push(text) } }
  }

  it('prints plain lines at a slow pace when the output is not a terminal', () => {
    let now = 0
    const { writes, out } = output(false)
    const progress = createProgress({ out, total: 100, countUnit: 'x', now: () => now })
    progress.update(1)
    now = 1000
    progress.update(2)
    now = 5000
    progress.update(50)
    progress.finish()
    expect(writes).toHaveLength(3)
    expect(writes.every((w) => w.endsWith('\n') && !w.includes('\r'))).toBe(true)
  })

  it('redraws one line on a terminal and moves it out of the way of other output', () => {
    let now = 0
    const { writes, out } = output(true)
    const progress = createProgress({ out, total: 100, countUnit: 'x', now: () => now })
    progress.update(1)
    now = 50
    progress.update(2)
    now = 200
    progress.update(3)
    progress.above(() => writes.push('message\n'))
    progress.finish()
    expect(writes[0]?.startsWith('\r[')).toBe(true)
    expect(writes[0]?.endsWith('\x1b[K')).toBe(true)
    expect(writes[0]?.length).toBeLessThanOrEqual(2 + 59 + 3)
    expect(writes.slice(2, 5)).toEqual(['\r\x1b[K', 'message\n', expect.stringMatching(/^\r\[/)])
    expect(writes.at(-1)).toBe('\n')
  })
})
