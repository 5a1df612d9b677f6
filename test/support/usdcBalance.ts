import type { Address } from 'viem'
import { usdcAbi } from '../../src/chain/abis.js'
import type { TestChain } from '../fixtures.js'

/**
 * The USDC balance (micro-dollars) of `who` on the test chain, read as the deployer.
 *
 * @example
 * expect(await usdcBalance(chain, owner.address)).toBe(1_000_000n - 14_000n)
 */
export function usdcBalance(chain: Pick<TestChain, 'deployer' | 'deployment'>, who: Address) {
  return chain.deployer.readContract({
    address: chain.deployment.usdc,
    abi: usdcAbi,
    functionName: 'balanceOf',
    args: [who],
  })
}
