import { spawn } from 'node:child_process'
import type { TestChain } from '../fixtures.js'
import { writeDeploymentFile } from './writeDeploymentFile.js'

export type CrashChildRunnerParameters = {
  /** The test database (`CRASH_DB_URL`). */
  databaseUrl: string
  /** The test chain: its RPC (`CRASH_RPC_URL`) and deployment (`CRASH_DEPLOYMENT`, a file). */
  chain: Pick<TestChain, 'rpcUrl' | 'deployment'>
  /** A word for the deployment file's name. */
  name: string
}

export type CrashChildParameters = {
  /** The child's script, from the repo root (`test/settlement/settleChild.ts`). */
  script: string
  /** The step at which the child SIGKILLs itself (`CRASH_AT`). */
  at: string
  /** The rest of the child's environment (`CRASH_ORGS`, `CRASH_KEY`, …). */
  env: Record<string, string>
  /** Kill it with SIGKILL from outside after this many milliseconds (the `random` step). */
  killAfterMs?: number
}

/**
 * The trials of a crash test: writes the deployment file once and returns `run`, which starts
 * `script` under tsx with the CRASH_* environment; the child SIGKILLs itself at step `at` (or is
 * killed from outside after `killAfterMs`), and `run` resolves with the signal it died of.
 *
 * @example
 * const run = crashChildRunner({ databaseUrl, chain, name: 'topup' })
 * const signal = await run({ script: 'test/settlement/settleChild.ts', at: 'sent', env: { CRASH_ORGS: orgId } })
 */
export function crashChildRunner(p: CrashChildRunnerParameters) {
  const deploymentFile = writeDeploymentFile(p.chain.deployment, p.name)
  return (q: CrashChildParameters): Promise<NodeJS.Signals | null> => {
    const child = spawn('node', ['--import', 'tsx', q.script], {
      env: {
        ...process.env,
        CRASH_AT: q.at,
        CRASH_DB_URL: p.databaseUrl,
        CRASH_RPC_URL: p.chain.rpcUrl,
        CRASH_DEPLOYMENT: deploymentFile,
        ...q.env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    if (q.killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), q.killAfterMs)
    return new Promise((r) => child.on('exit', (_code, sig) => r(sig)))
  }
}
