import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Deployment } from '../../src/chain/deployment.js'

/**
 * Writes `deployment` to a fresh JSON file in the temp folder, for a child process or a
 * `tollgate` command (`DEPLOYMENT_FILE`) that reads the test chain's addresses; returns its path.
 *
 * @example
 * const deploymentFile = writeDeploymentFile(chain.deployment, 'crash')
 */
export function writeDeploymentFile(deployment: Deployment, name: string): string {
  const file = join(tmpdir(), `tg-${name}-${process.pid}-${Date.now()}.json`)
  writeFileSync(file, JSON.stringify(deployment))
  return file
}
