import { collectorAbi } from '../../src/chain/abis.js'
import { unpackCollected } from '../../src/settlement/context.js'
import { subscriptionKey } from '../../src/subscriptions/typedData.js'
import type { TestChain } from '../fixtures.js'

/**
 * The collector's `Collected` events of `subscriptionId` on the test chain, unpacked (seq,
 * amount, …) with the transaction each landed in: what was really pulled, read as the deployer.
 *
 * @example
 * expect((await collectedPulls(chain, subscriptionId)).map((p) => p.seq)).toEqual([1])
 */
export async function collectedPulls(
  chain: Pick<TestChain, 'deployer' | 'deployment'>,
  subscriptionId: string,
) {
  const logs = await chain.deployer.getContractEvents({
    address: chain.deployment.collector!,
    abi: collectorAbi,
    eventName: 'Collected',
    args: { subscription: subscriptionKey(subscriptionId) },
    fromBlock: 0n,
  })
  return logs.map((l) => ({
    ...unpackCollected(l.args.packed!),
    transactionHash: l.transactionHash,
  }))
}
