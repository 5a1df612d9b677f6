import { spawn } from 'node:child_process'
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
