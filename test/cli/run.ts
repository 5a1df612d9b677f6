import { spawn } from 'node:child_process'

/**
 * Runs the `tollgate` command as a user would, as a subprocess; resolves with its output and
 * exit code. A variable given as undefined is removed from the environment.
 */
export function tollgate(args: string[], env: Record<string, string | undefined> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((ok) => {
    const child = spawn('node', ['bin/tollgate.mjs', ...args], {
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('exit', (code) => ok({ code, stdout, stderr }))
  })
}
