import type { Address, PublicClient } from 'viem'
import { usdcAbi } from '../chain/abis.js'

/**
 * Whether the token blacklisted the payee: then no pull can land, for anyone. That is the
 * operator's problem (a new payee means a new collector), never the owners': it is reported in
 * logs and health, and nobody's subscription lapses for it.
 */
export async function isPayeeBlacklisted(
  client: Pick<PublicClient, 'readContract'>,
  deployment: { usdc: Address; payee: Address },
): Promise<boolean> {
  return await client.readContract({
    address: deployment.usdc,
    abi: usdcAbi,
    functionName: 'isBlacklisted',
    args: [deployment.payee],
  })
}
