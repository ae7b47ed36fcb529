/**
 * @module Ordered graceful shutdown: on SIGTERM or SIGINT run each step in order (stop intake →
 * drain → close clients), then exit. A step that fails is logged and the next still runs; the
 * whole sequence is bounded by `timeoutMs`, after which the process exits with code 1.
 */
import type { Logger } from './logger'

export type ShutdownStep = [name: string, run: () => Promise<unknown> | unknown]

/**
 * @example onShutdown(logger, [['http', () => closeServer()], ['redis', () => redis.quit()]])
 */
export function onShutdown(
  logger: Logger,
  steps: ShutdownStep[],
  opts: { timeoutMs?: number } = {},
): void {
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) {
      return
    }
    stopping = true
    logger.info({ signal }, 'shutting down')
    const timer = setTimeout(() => {
      logger.error('shutdown took too long; exiting')
      process.exit(1)
    }, opts.timeoutMs ?? 15_000)
    timer.unref()
    for (const [name, run] of steps) {
      try {
        await run()
      } catch (err) {
        logger.error({ err, step: name }, 'shutdown step failed')
      }
    }
    logger.info('stopped')
    process.exit(0)
  }
  process.once('SIGTERM', () => void stop('SIGTERM'))
  process.once('SIGINT', () => void stop('SIGINT'))
}
