import { collectorAbi } from '../../src/chain/abis.js'
import { subscriptionKey } from '../../src/subscriptions/typedData.js'
import type { TestChain } from '../fixtures.js'

/**
 * What the collector on the test chain holds for `subscriptionId` (owner, status, cap,
 * totalCollected, lastSeq, …), read as the deployer.
 *
 * @example
 * expect(await readSubscription(chain, subscriptionId)).toMatchObject({ status: 1 })
 */
export function readSubscription(
  chain: Pick<TestChain, 'deployer' | 'deployment'>,
  subscriptionId: string,
) {
  return chain.deployer.readContract({
    address: chain.deployment.collector!,
    abi: collectorAbi,
    functionName: 'getSubscription',
    args: [subscriptionKey(subscriptionId)],
  })
}
