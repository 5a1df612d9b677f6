import { type ChildProcess, spawn } from 'node:child_process'

export type StartDevOptions = {
  /** The checkout to run `bin/tollgate.mjs` from (this one unless given). */
  cwd?: string
}

/**
 * `tollgate dev --json` with `env` and `args`, in a process group of its own; `line(prefix)`
 * resolves with its first stdout line starting with `prefix` (undefined if dev exits first),
 * `mustLine(prefix)` the same but fails if dev exits first.
 *
 * @example
 * const dev = startDev(env, ['--no-demo'])
 * const summary = JSON.parse(await dev.mustLine('{"api"', 120_000))
 */
export function startDev(env: NodeJS.ProcessEnv, args: string[], options: StartDevOptions = {}) {
  const child = spawn('node', ['bin/tollgate.mjs', 'dev', '--json', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  })
  const out = { stdout: '', stderr: '' }
  child.stdout!.on('data', (d) => (out.stdout += d))
  child.stderr!.on('data', (d) => (out.stderr += d))
  const exited = new Promise<number | null>((ok) => child.on('exit', ok))
  /** Resolves with the first stdout line starting with `prefix`, or undefined if dev exits first. */
  const line = (prefix: string, ms: number) =>
    new Promise<string | undefined>((ok, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`no ${prefix} in time: ${out.stdout} ${out.stderr}`)),
        ms,
      )
      const look = () => {
        const found = out.stdout.split('\n').find((l) => l.startsWith(prefix))
        if (found) {
          clearTimeout(timer)
          ok(found)
        }
      }
      child.stdout!.on('data', look)
      void exited.then(() => {
        clearTimeout(timer)
        look()
        ok(undefined)
      })
      look()
    })
  /** `line`, but a dev that exits before printing it is an error (with what it said). */
  const mustLine = async (prefix: string, ms: number) => {
    const found = await line(prefix, ms)
    if (found === undefined)
      throw new Error(`dev exited ${child.exitCode} before ${prefix}: ${out.stdout} ${out.stderr}`)
    return found
  }
  return { child: child as ChildProcess, out, exited, line, mustLine }
}
