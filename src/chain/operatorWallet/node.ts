import { type Hex, keccak256, TransactionNotFoundError } from 'viem'
import type { OperatorScope } from './types.js'

/** Whether a broadcast error means the node already has (or already mined) this nonce. */
const alreadyHandled = (e: unknown) =>
  /already known|nonce too low|replacement transaction underpriced|known transaction|nonce has already been used/i.test(
    e instanceof Error ? `${e.message} ${(e as { details?: string }).details ?? ''}` : String(e),
  )

/** The operator's nonce as the chain counts it (mined only, or with the node's pool). */
export const chainNonce = (s: OperatorScope, blockTag: 'latest' | 'pending') =>
  s.client.getTransactionCount({ address: s.address, blockTag })

/**
 * Signs an EIP-1559 transaction locally (nothing leaves the process): its raw bytes and hash.
 *
 * @example
 * const { raw, hash } = await sign(scope, 7, { to, data, gas, maxFeePerGas, maxPriorityFeePerGas })
 */
export async function sign(
  s: OperatorScope,
  nonce: number,
  r: {
    to: `0x${string}`
    data: Hex
    gas: bigint
    maxFeePerGas: bigint
    maxPriorityFeePerGas: bigint
  },
): Promise<{ raw: Hex; hash: Hex }> {
  const raw = await s.client.account.signTransaction!({
    type: 'eip1559',
    chainId: s.chainId,
    nonce,
    to: r.to,
    data: r.data,
    gas: r.gas,
    maxFeePerGas: r.maxFeePerGas,
    maxPriorityFeePerGas: r.maxPriorityFeePerGas,
    value: 0n,
  })
  return { raw, hash: keccak256(raw) }
}

/** Sends signed bytes to the node; one it already has (or mined) is not an error. */
export async function broadcast(s: OperatorScope, raw: Hex): Promise<void> {
  try {
    await s.client.sendRawTransaction({ serializedTransaction: raw })
  } catch (e) {
    if (!alreadyHandled(e)) throw e
  }
}

/** The receipt of the first of these hashes the node has mined, if any. */
export async function receiptOf(s: OperatorScope, hashes: Hex[]) {
  for (const h of hashes) {
    const r = await s.client.getTransactionReceipt({ hash: h }).catch(() => undefined)
    if (r) return r
  }
  return undefined
}

/**
 * Whether the node knows none of these hashes as mined — the only proof that a used nonce went
 * to a transaction we never recorded. A node that does not answer proves nothing.
 */
export async function noneLanded(s: OperatorScope, hashes: Hex[]): Promise<boolean> {
  for (const h of hashes) {
    try {
      if ((await s.client.getTransaction({ hash: h })).blockNumber !== null) return false
    } catch (e) {
      if (!(e instanceof TransactionNotFoundError)) return false
    }
  }
  return true
}
