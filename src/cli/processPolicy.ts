import type { Logger } from '../core/log.js'

/** System error codes after which this process cannot serve: it exits and is restarted. */
const fatalCodes = new Set([
  'ENOMEM',
  'EMFILE',
  'ENFILE',
  'EADDRINUSE',
  'ERR_WORKER_OUT_OF_MEMORY',
  'ERR_MEMORY_ALLOCATION_FAILED',
])

/**
 * Whether an error that reached the process unhandled leaves it unable to serve. An error
 * marked `fatal: true`, and a process out of memory, file descriptors or its port, are fatal;
 * anything else was one request's, one batch's or one job's failure — its work has failed
 * already, the state that matters is in PostgreSQL, and the process goes on.
 *
 * @internal Exported for its table test (test/cli/processPolicy.e2e.test.ts).
 */
export function isFatal(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { fatal, code } = error as { fatal?: unknown; code?: unknown }
  return fatal === true || (typeof code === 'string' && fatalCodes.has(code))
}

export type InstallProcessPolicyParameters = {
  log: Logger
  /** Stops what the process started, then exits with `code` (it must not return normally). */
  exit: (code: number) => unknown
  /** The process to watch (tests pass their own emitter). Default: `process`. */
  target?: Pick<NodeJS.Process, 'on' | 'off'>
}

/**
 * The long-running processes' (`tollgate dev`, `tollgate worker`) answer to an error nobody
 * caught: Node's default ends the process on any unhandled rejection, so one bad input that
 * slips past a handler would take down every caller (and, under `dev`, PostgreSQL and anvil
 * with it). Each such error is logged once, with its stack; the process exits — through
 * `exit`, which stops everything in order — only when `isFatal` says it cannot go on.
 * Returns a function that removes the handlers.
 */
export function installProcessPolicy({
  log,
  exit,
  target = process,
}: InstallProcessPolicyParameters): () => void {
  let exiting = false
  const handle = (kind: 'uncaughtException' | 'unhandledRejection') => (error: unknown) => {
    const fatal = isFatal(error)
    log.error(`${kind}${fatal ? ': fatal, exiting' : ': logged, process goes on'}`, {
      error:
        error instanceof Error
          ? {
              name: error.name,
              message: error.message,
              code: (error as { code?: unknown }).code,
              stack: error.stack,
            }
          : String(error),
    })
    if (!fatal || exiting) return
    exiting = true
    void Promise.resolve()
      .then(() => exit(70))
      .catch(() => process.exit(70))
  }
  const onException = handle('uncaughtException')
  const onRejection = handle('unhandledRejection')
  target.on('uncaughtException', onException)
  target.on('unhandledRejection', onRejection)
  return () => {
    target.off('uncaughtException', onException)
    target.off('unhandledRejection', onRejection)
  }
}
