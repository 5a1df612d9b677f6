import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import { projectRoot } from '../../src/config/index.js'

/**
 * One `tollgate …` process the soak runs and, as an operator's supervisor would, starts again
 * after it dies. Its stdout and stderr go to `<logDir>/<name>.log` (appended across restarts).
 */
export type App = {
  name: string
  pid: () => number | undefined
  /** Running (not being restarted). */
  up: () => boolean
  /**
   * SIGKILLs it (no shutdown at all) and starts it again after `restartMs`; does nothing while
   * it is down already.
   */
  kill: (restartMs: number) => Promise<void>
  /** Stops it for good: SIGTERM, then SIGKILL after 10 s. */
  stop: () => Promise<void>
}

export function startApp(p: {
  name: string
  args: string[]
  env: NodeJS.ProcessEnv
  logDir: string
}): App {
  const log: WriteStream = createWriteStream(join(p.logDir, `${p.name}.log`), { flags: 'a' })
  let child: ChildProcess | undefined
  let stopped = false
  let restarting = false
  const run = () => {
    if (stopped || child) return
    log.write(`--- start ${new Date().toISOString()}\n`)
    const c = spawn('node', ['bin/tollgate.mjs', ...p.args], {
      cwd: projectRoot,
      env: p.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    c.stdout!.pipe(log, { end: false })
    c.stderr!.pipe(log, { end: false })
    // Died on its own (a fatal error): started again, as a supervisor would.
    c.once('exit', (code, signal) => {
      log.write(`--- exit ${code ?? signal} ${new Date().toISOString()}\n`)
      if (child !== c) return
      child = undefined
      if (!stopped) setTimeout(run, 1000)
    })
    child = c
  }
  const exited = (c: ChildProcess) =>
    new Promise<void>((ok) =>
      c.exitCode !== null || c.signalCode !== null ? ok() : c.once('exit', () => ok()),
    )
  run()
  return {
    name: p.name,
    pid: () => child?.pid,
    up: () => child !== undefined && !restarting,
    kill: async (restartMs) => {
      const c = child
      if (restarting || !c) return
      restarting = true
      child = undefined
      c.kill('SIGKILL')
      await exited(c)
      await new Promise((r) => setTimeout(r, restartMs))
      restarting = false
      run()
    },
    stop: async () => {
      stopped = true
      const c = child
      if (!c) return
      const timer = setTimeout(() => c.kill('SIGKILL'), 10_000)
      c.kill('SIGTERM')
      await exited(c)
      clearTimeout(timer)
      log.end()
    },
  }
}
