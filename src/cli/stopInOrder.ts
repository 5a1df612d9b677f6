import type { Logger } from '../core/log.js'

export type StopInOrderReturnType = {
  /** Registers how to stop one thing just started: the last added is stopped first. */
  add: (stop: () => Promise<unknown>) => void
  /** Stops everything added, newest first (a failure is logged, the rest still stop), then exits. */
  shutdown: (code: number) => Promise<void>
}

/**
 * The orderly end of a long-running process (`tollgate dev`, its app process): what started
 * last stops first, once, however many signals arrive.
 */
export function stopInOrder(log: Logger, onStopping: () => void = () => {}): StopInOrderReturnType {
  const stops: Array<() => Promise<unknown>> = []
  let stopping = false
  return {
    add: (stop) => {
      stops.push(stop)
    },
    shutdown: async (code) => {
      if (stopping) return
      stopping = true
      onStopping()
      for (const stop of stops.reverse())
        await stop().catch((e) => log.error('stop failed', { error: String(e) }))
      process.exit(code)
    },
  }
}
