import type { Address, Chain, Client, Transport } from 'viem'
import { getCode, readContract } from 'viem/actions'
import { usdcAbi } from '../chain/abis.js'

export type OwnerDeploymentDueParameters = {
  /** The USDC proxy. */
  token: Address
  owner: Address
  /** What is due now in token base units (0: nothing to collect). */
  amountDue: bigint
}

export type OwnerDeploymentDueReturnType = {
  /** True only when deploying the owner's wallet now is warranted. */
  deploy: boolean
  reason: 'already_deployed' | 'nothing_due' | 'balance_short' | 'due'
  balance: bigint
}

/**
 * Whether a counterfactual owner's wallet should be deployed now: only when a charge is due and
 * the wallet's USDC balance (a counterfactual address can already hold USDC) covers it. Until then
 * its ERC-6492 authorization stays off-chain, so a sign-up that never pays costs the operator no
 * deployment gas.
 *
 * @example
 * const { deploy } = await ownerDeploymentDue(client, { token: usdc, owner, amountDue: 1_000_000n })
 */
export async function ownerDeploymentDue(
  client: Client<Transport, Chain | undefined>,
  parameters: OwnerDeploymentDueParameters,
): Promise<OwnerDeploymentDueReturnType> {
  const { token, owner, amountDue } = parameters
  const [code, balance] = await Promise.all([
    getCode(client, { address: owner }),
    readContract(client, {
      address: token,
      abi: usdcAbi,
      functionName: 'balanceOf',
      args: [owner],
    }),
  ])
  if (code !== undefined && code !== '0x')
    return { deploy: false, reason: 'already_deployed', balance }
  if (amountDue <= 0n) return { deploy: false, reason: 'nothing_due', balance }
  if (balance < amountDue) return { deploy: false, reason: 'balance_short', balance }
  return { deploy: true, reason: 'due', balance }
}
