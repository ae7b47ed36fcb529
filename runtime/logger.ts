/** @module JSON-lines logger (pino) bound to the role; child loggers add eventId / traceId. */
import { pino } from 'pino'

export type Logger = pino.Logger

/**
 * Creates the process logger. Logs go to stdout as one JSON object per line.
 * @example const log = createLogger({ level: 'info', role: 'api' })
 */
export function createLogger(opts: { level: string; role: string }): Logger {
  return pino({
    level: opts.level,
    base: { role: opts.role },
    timestamp: pino.stdTimeFunctions.isoTime,
  })
}
