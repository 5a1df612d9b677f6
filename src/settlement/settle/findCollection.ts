import type { Hex } from 'viem'
import { collectorAbi } from '../../chain/abis.js'
import { type BlockRange, getLogsInRanges } from '../../chain/getLogsInRanges.js'
import { subscriptionKey } from '../../subscriptions/typedData.js'
import { type SettlementContext, unpackCollected } from '../context.js'

/**
 * Finds the `Collected` event of (subscription, seq) on-chain: the proof a charge was pulled.
 * Read newest first in bounded ranges (the pull is recent; RPCs cap log ranges).
 *
 * @example
 * const found = await findCollection(ctx, subscriptionId, 3) // { txHash, blockNumber } | undefined
 */
export async function findCollection(
  ctx: SettlementContext,
  subscriptionId: string,
  seq: number,
): Promise<{ txHash: Hex; blockNumber: bigint } | undefined> {
  const isIt = (log: { args: { packed?: bigint } }) => unpackCollected(log.args.packed!).seq === seq
  const logs = await getLogsInRanges(ctx.operator, {
    fromBlock: BigInt(ctx.deployment.blocks.collector ?? 0),
    maxRange: ctx.maxLogRange,
    direction: 'backward',
    stop: (found) => found.some(isIt),
    read: (range: BlockRange) =>
      ctx.operator.getContractEvents({
        address: ctx.deployment.collector!,
        abi: collectorAbi,
        eventName: 'Collected',
        args: { subscription: subscriptionKey(subscriptionId) },
        ...range,
      }),
  })
  const log = logs.find(isIt)
  return log ? { txHash: log.transactionHash, blockNumber: log.blockNumber } : undefined
}
