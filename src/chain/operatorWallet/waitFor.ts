import type { Hex, TransactionReceipt } from 'viem'
import { broadcast, chainNonce, noneLanded, receiptOf, sign } from './node.js'
import { healBelow } from './sync.js'
import type { OperatorScope, OperatorTx, Row, WaitForParameters } from './types.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The largest of some bigints (Math.max does not take them). */
const maxOf = (...v: bigint[]) =>
  v.reduce((a, b) => {
    if (b > a) return b
    return a
  })

/** Signs the same calldata at the same nonce with fees raised by `bumpPercent`, records it, broadcasts. */
async function replace(
  s: OperatorScope,
  id: bigint,
  onReplace?: (hash: Hex) => Promise<void> | void,
) {
  const { sql, client, log } = s
  const [row] = await sql<Row[]>`select * from operator_txs where id = ${id.toString()}`
  const fees = await client.estimateFeesPerGas()
  const up = (v: bigint) => (v * s.bump) / 100n + 1n
  const maxPriorityFeePerGas = maxOf(up(row!.max_priority_fee_per_gas), fees.maxPriorityFeePerGas)
  const maxFeePerGas = maxOf(up(row!.max_fee_per_gas), fees.maxFeePerGas, maxPriorityFeePerGas)
  const { raw, hash } = await sign(s, row!.nonce, {
    to: row!.to_address,
    data: row!.data,
    gas: BigInt(row!.gas),
    maxFeePerGas,
    maxPriorityFeePerGas,
  })
  const [updated] = await sql<Row[]>`
    update operator_txs set raw = ${raw}, tx_hashes = array_append(tx_hashes, ${hash}),
      max_fee_per_gas = ${maxFeePerGas.toString()}, max_priority_fee_per_gas = ${maxPriorityFeePerGas.toString()},
      updated_at = clock_timestamp()
    where id = ${id.toString()} returning tx_hashes`
  await onReplace?.(hash)
  log?.warn('operator transaction replaced', {
    nonce: row!.nonce,
    purpose: (row as unknown as { purpose: string }).purpose,
    replaced: row!.tx_hashes.at(-1),
    by: hash,
  })
  await broadcast(s, raw)
  return updated!.tx_hashes
}

/**
 * Waits until one of the transaction's hashes is mined with `confirmations`, replacing it
 * when stuck (same calldata and nonce, fees raised). Returns undefined when its nonce was
 * consumed by a transaction we never recorded (nothing of ours landed).
 *
 * @example
 * const receipt = await waitForOperatorTx(scope, tx, { confirmations: 2 })
 */
export async function waitForOperatorTx(
  s: OperatorScope,
  tx: OperatorTx,
  w: WaitForParameters = {},
): Promise<TransactionReceipt | undefined> {
  const { sql, client, log, chainId, genesis, address } = s
  const confirmations = Math.max(1, w.confirmations ?? 1)
  const every = w.replaceAfterMs ?? 60_000
  let hashes = [...tx.hashes]
  let next = Date.now() + every
  let healAt = Date.now() + 2_000
  for (;;) {
    const found = await receiptOf(s, hashes)
    if (found) {
      const receipt =
        confirmations > 1
          ? await client.waitForTransactionReceipt({
              hash: found.transactionHash,
              confirmations,
            })
          : found
      await sql`update operator_txs set status = 'mined', mined_hash = ${receipt.transactionHash},
        updated_at = clock_timestamp() where id = ${tx.id.toString()}`
      return receipt
    }
    if ((await chainNonce(s, 'latest')) > tx.nonce) {
      // The nonce is used: by one of our hashes (its receipt not served yet) or by a
      // transaction we never made. Only the node saying it mined none of ours decides.
      await sleep(250)
      if ((await receiptOf(s, hashes)) || !(await noneLanded(s, hashes))) continue
      // Another row of ours at this nonce would be a bug in taking nonces: name it.
      const others = await sql<{ id: bigint; purpose: string }[]>`
        select id, purpose from operator_txs where chain_id = ${chainId} and genesis = ${genesis}
          and address = ${address} and nonce = ${tx.nonce} and id <> ${tx.id.toString()}`
      log?.warn('operator nonce used by another transaction', {
        nonce: tx.nonce,
        hashes,
        recorded: others.map((o) => `${o.id}:${o.purpose}`),
      })
      await sql`update operator_txs set status = 'superseded', updated_at = clock_timestamp() where id = ${tx.id.toString()}`
      return undefined
    }
    if (Date.now() >= healAt) {
      await healBelow(s, tx.nonce)
      healAt = Date.now() + 2_000
    }
    if (Date.now() >= next) {
      hashes = await replace(s, tx.id, w.onReplace)
      next = Date.now() + every
    }
    await sleep(250)
  }
}
