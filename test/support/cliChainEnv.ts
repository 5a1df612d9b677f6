import type { TestChain } from '../fixtures.js'
import { writeDeploymentFile } from './writeDeploymentFile.js'

/**
 * The environment of a `tollgate` command run against the test database and chain (deployment
 * written to a file, one confirmation), with `extra` on top (`OPERATOR_KEY`, `PAYEE_KEY`, …).
 *
 * @example
 * const env = cliChainEnv(chain, databaseUrl, 'cli-reconcile', { OPERATOR_KEY: undefined })
 */
export function cliChainEnv(
  chain: TestChain,
  databaseUrl: string,
  name: string,
  extra: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    DATABASE_URL: databaseUrl,
    RPC_URL: chain.rpcUrl,
    DEPLOYMENT_FILE: writeDeploymentFile(chain.deployment, name),
    CONFIRMATIONS: '1',
    ...extra,
  }
}
