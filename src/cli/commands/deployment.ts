import type { Command } from 'commander'
import type { PublicClient } from 'viem'
import { verifyDeployment } from '../../chain/verifyDeployment.js'
import { loadConfig } from '../../config/index.js'
import { deploymentPath } from '../boot.js'
import { connectReader } from '../connect.js'
import { printFields, printJson } from '../output.js'

/**
 * `tollgate deployment verify`: the deployment file this node reads, checked against the chain
 * it points at, as `scripts/deploy.ts` checks it before writing it (docs/operations.md §
 * Deploying on Base Sepolia): run on every node the file is copied to. Read-only; exit 1
 * naming each difference.
 */
export function deploymentCommand(program: Command) {
  program
    .command('deployment')
    .description('the contracts this node uses')
    .command('verify')
    .description(
      'check the deployment file against the chain: code, the collector’s token, payee, validator, admin, operators, and the token’s EIP-712 domain',
    )
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfig()
      const { reader, deployment } = await connectReader(config)
      const file = deploymentPath(config, deployment.chainId)
      let domain: Awaited<ReturnType<typeof verifyDeployment>>
      try {
        domain = await verifyDeployment(reader as PublicClient, deployment)
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        if (opts.json) printJson({ ok: false, file, problem: message })
        else process.stdout.write(`${file}: ${message}\n`)
        process.exitCode = 1
        return
      }
      if (opts.json) return printJson({ ok: true, file, ...deployment, token_domain: domain })
      printFields([
        ['verified', file],
        ['chain', String(deployment.chainId)],
        ['token', `${deployment.usdc} (EIP-712 "${domain.name}" version ${domain.version})`],
        ['collector', deployment.collector],
        ['validator', deployment.validator],
        ['payee', deployment.payee],
        ['admin', deployment.admin],
        ['operators', deployment.operators.join(', ') || 'none'],
      ])
    })
}
