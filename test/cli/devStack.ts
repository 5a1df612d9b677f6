import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** Whether `pid` runs: a zombie (state Z) has exited, so only a running process counts. */
export const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** What `ps` prints for `args`, one trimmed line split on blanks per process. */
function ps(args: string[]): Promise<string[][]> {
  return new Promise((ok) => {
    const child = spawn('ps', args)
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('close', () =>
      ok(
        out
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .map((l) => l.split(/\s+/)),
      ),
    )
  })
}

/** The postgres and anvil processes `pid` started. */
export async function serviceChildren(pid: number): Promise<number[]> {
  return (await ps(['-o', 'pid=,comm=', '--ppid', String(pid)]))
    .filter(([, comm]) => comm === 'postgres' || comm === 'anvil')
    .map(([p]) => Number(p))
}

/** `tollgate dev --json` with `env` and `args`, in a process group of its own. */
export function startDev(env: NodeJS.ProcessEnv, args: string[]) {
  const child = spawn('node', ['bin/tollgate.mjs', 'dev', '--json', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
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
  return { child: child as ChildProcess, out, exited, line }
}
