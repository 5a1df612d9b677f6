import type { ChildProcess } from 'node:child_process'

/** What an app process sends its supervisor once it serves. */
export type AppReadyMessage = { type: 'ready'; api: string }

export type SuperviseAppParameters = {
  /** Starts one app process: a `fork`, so that it can send `AppReadyMessage`. */
  start: () => ChildProcess
  /** Called each time a process sends `AppReadyMessage`, the first and every restarted one. */
  onReady?: (child: ChildProcess, message: AppReadyMessage) => void
  /** One line for the developer: each restart, and why it gave up. */
  say: (line: string) => void
  /** Called once, with one sentence, when the app keeps dying at start: stop everything. */
  onGiveUp: (sentence: string) => void
  /** The pause before the first restart; it doubles with each exit in a row. Default 500 ms. */
  firstDelayMs?: number
  /** The longest pause between restarts. Default 10 s. */
  maxDelayMs?: number
  /**
   * A process that served this long (from its `AppReadyMessage`) had started well: its exit
   * begins a new count. Default 30 s.
   */
  stableMs?: number
  /** Exits in a row, each before serving `stableMs`, after which it gives up. Default 5. */
  maxQuickExits?: number
}

export type SuperviseAppReturnType = {
  /** The first process's `AppReadyMessage` (pending forever if it gives up first). */
  ready: Promise<AppReadyMessage>
  /** The process serving now, once it said it is ready. */
  current: () => ChildProcess | undefined
  /** Stops the process (SIGTERM, SIGKILL after 10 s) and restarts no more. */
  stop: () => Promise<void>
}

/**
 * Runs the app (API and worker) of `tollgate dev` as a child process and starts it again each
 * time it exits while not asked to stop, after a pause that doubles from `firstDelayMs` to
 * `maxDelayMs` while it keeps dying young: an app crash costs a restart, never the database or
 * the chain this process owns. An app that exits 2 refused to start (a `ConfigError`): it is
 * not started again (docs/operations.md, Processes).
 */
export function superviseApp(p: SuperviseAppParameters): SuperviseAppReturnType {
  const firstDelayMs = p.firstDelayMs ?? 500
  const maxDelayMs = p.maxDelayMs ?? 10_000
  const stableMs = p.stableMs ?? 30_000
  const maxQuickExits = p.maxQuickExits ?? 5
  let child: ChildProcess | undefined
  let serving: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  let restartTimer: NodeJS.Timeout | undefined
  let stopping = false
  let quickExits = 0
  let firstReady: (m: AppReadyMessage) => void = () => {}
  const ready = new Promise<AppReadyMessage>((ok) => {
    firstReady = ok
  })

  const launch = () => {
    const startedAt = Date.now()
    let readyAt: number | undefined
    const c = p.start()
    child = c
    let done: () => void = () => {}
    exited = new Promise<void>((ok) => {
      done = ok
    })
    c.on('message', (m: AppReadyMessage) => {
      if (m?.type !== 'ready') return
      readyAt = Date.now()
      serving = c
      firstReady(m)
      p.onReady?.(c, m)
    })
    // A process that could not be spawned at all emits `error` and never `exit`.
    c.once('error', () => {
      if (c.pid === undefined) onExit(c, startedAt, readyAt, null, null, done)
    })
    c.once('exit', (code, signal) => onExit(c, startedAt, readyAt, code, signal, done))
  }

  const onExit = (
    c: ChildProcess,
    startedAt: number,
    readyAt: number | undefined,
    code: number | null,
    signal: NodeJS.Signals | null,
    done: () => void,
  ) => {
    if (serving === c) serving = undefined
    done()
    if (stopping) return
    const upMs = Date.now() - startedAt
    const served = readyAt === undefined ? 0 : Date.now() - readyAt
    quickExits = served >= stableMs ? 1 : quickExits + 1
    const how = signal ? `was killed by ${signal}` : `exited with code ${code ?? 'unknown'}`
    if (code === 2) {
      stopping = true
      p.onGiveUp(
        'The app refused to start (exit 2: its reason is above), so tollgate dev stops: starting it again would refuse again.',
      )
      return
    }
    if (quickExits >= maxQuickExits) {
      stopping = true
      p.onGiveUp(
        `The app exited ${quickExits} times in a row, each before it had served ${stableMs / 1000} s (last: it ${how}), so tollgate dev stops: its errors are above.`,
      )
      return
    }
    const delayMs = Math.min(maxDelayMs, firstDelayMs * 2 ** (quickExits - 1))
    p.say(
      `tollgate dev: the app (pid ${c.pid ?? '-'}) ${how} after ${(upMs / 1000).toFixed(1)} s; starting it again in ${delayMs / 1000} s (PostgreSQL and the chain keep running)`,
    )
    restartTimer = setTimeout(() => {
      restartTimer = undefined
      if (!stopping) launch()
    }, delayMs)
  }

  launch()
  return {
    ready,
    current: () => serving,
    stop: async () => {
      stopping = true
      if (restartTimer) clearTimeout(restartTimer)
      const c = child
      if (c && c.exitCode === null && c.signalCode === null) {
        const timer = setTimeout(() => c.kill('SIGKILL'), 10_000)
        c.kill('SIGTERM')
        await exited
        clearTimeout(timer)
      }
    },
  }
}
