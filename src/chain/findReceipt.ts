import type { Chain, PublicActions, TransactionReceipt, Transport } from 'viem'

/**
 * The receipt of `hash`, or undefined when the chain has no such transaction (never mined, or
 * gone with a reorg or an older state). Any other failure (the node down) is thrown.
 */
export async function findReceipt(
  client: Pick<PublicActions<Transport, Chain>, 'getTransactionReceipt'>,
  hash: string,
): Promise<TransactionReceipt | undefined> {
  return await client.getTransactionReceipt({ hash: hash as `0x${string}` }).catch((e: Error) => {
    if (e.name === 'TransactionReceiptNotFoundError') return undefined
    throw e
  })
}
