import type { Command } from 'commander'
import { getAddress, isAddress } from 'viem'
import { usdcAbi } from '../../chain/abis.js'
import { createSigner } from '../../chain/clients.js'
import { mintUsdc } from '../../chain/deployContracts.js'
import { loadConfig } from '../../config/index.js'
import { ConfigError, ValidationError } from '../../core/errors.js'
import { formatUsd } from '../../ledger/index.js'
import { connectReader } from '../connect.js'
import { printFields, printJson } from '../output.js'
import { usdArgument } from '../usdArgument.js'

/** The chain id of the anvil `tollgate dev` runs: the only chain the faucet mints on. */
const localChainId = 31337

/** The most one `tollgate fund` mints, in micro-credits ($1,000,000): a typo stays a typo. */
const mostPerCall = 1_000_000_000_000n

/**
 * `tollgate fund <address> <usd>`: the local stack's faucet. Mints test USDC to a wallet on the
 * local chain (anvil, chain id 31337, where the deployer key is the token's master minter), so a
 * new owner wallet can authorize on the manage page. Refused, in one sentence, on any other chain.
 */
export function fundCommand(program: Command) {
  program
    .command('fund')
    .description('dev faucet: mint test USDC to a wallet on the local chain (refused elsewhere)')
    .argument('<address>', 'the wallet to fund (0x…)')
    .argument('<usd>', 'how much, in dollars, e.g. 25 or 2.50')
    .option('--json', 'machine-readable output')
    .action(async (address: string, usd: string, opts: { json?: boolean }) => {
      if (!isAddress(address, { strict: false }))
        throw new ValidationError(`"${address}" is not an address (0x and 40 hex digits)`)
      const amount = usdArgument(usd)
      if (amount === 0n || amount > mostPerCall)
        throw new ValidationError(`fund between $0.000001 and ${formatUsd(mostPerCall)} at once`)
      const config = loadConfig()
      const { rpcUrl, reader, deployment } = await connectReader(config)
      const chainId = reader.chain!.id
      if (chainId !== localChainId)
        throw new ConfigError(
          `tollgate fund mints test USDC on the local chain only (chain ${localChainId}); ${rpcUrl} is chain ${chainId}, so get USDC there from its own faucet or an exchange`,
        )
      if (!config.chain.deployerKey)
        throw new ConfigError('DEPLOYER_KEY (the local token’s master minter) is required to mint')
      const to = getAddress(address)
      const minter = await createSigner(rpcUrl, config.chain.deployerKey.reveal())
      await mintUsdc(minter, deployment, { to, amount })
      const balance = await reader.readContract({
        address: deployment.usdc,
        abi: usdcAbi,
        functionName: 'balanceOf',
        args: [to],
      })
      if (opts.json)
        return printJson({
          address: to,
          minted_micros: amount.toString(),
          balance_micros: balance.toString(),
          chain_id: chainId,
        })
      printFields([
        ['funded', to],
        ['minted', formatUsd(amount)],
        ['balance now', formatUsd(balance)],
        ['chain', `${chainId} (local)`],
      ])
    })
}
