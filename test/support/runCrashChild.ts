import { spawn } from 'node:child_process'

export type RunCrashChildParameters = {
  /** The child's script, from the repo root (`test/settlement/settleChild.ts`). */
  script: string
  /** The step at which the child SIGKILLs itself (`CRASH_AT`). */
  at: string
  /** The test database (`CRASH_DB_URL`). */
  databaseUrl: string
  /** The test chain's RPC (`CRASH_RPC_URL`). */
  rpcUrl: string
  /** The deployment's JSON file (`CRASH_DEPLOYMENT`), from `writeDeploymentFile`. */
  deploymentFile: string
  /** The rest of the child's environment (`CRASH_ORGS`, `CRASH_KEY`, …). */
  env: Record<string, string>
  /** Kill it with SIGKILL from outside after this many milliseconds (the `random` step). */
  killAfterMs?: number
}

/**
 * One trial of a crash test: runs `script` under tsx, which SIGKILLs itself at step `at` (or is
 * killed from outside after `killAfterMs`); resolves with the signal it died of.
 *
 * @example
 * const signal = await runCrashChild({ script, at: 'sent', databaseUrl, rpcUrl, deploymentFile, env: {} })
 */
export function runCrashChild(p: RunCrashChildParameters): Promise<NodeJS.Signals | null> {
  const child = spawn('node', ['--import', 'tsx', p.script], {
    env: {
      ...process.env,
      CRASH_AT: p.at,
      CRASH_DB_URL: p.databaseUrl,
      CRASH_RPC_URL: p.rpcUrl,
      CRASH_DEPLOYMENT: p.deploymentFile,
      ...p.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  if (p.killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), p.killAfterMs)
  return new Promise((r) => child.on('exit', (_code, sig) => r(sig)))
}
