import { ContractFunctionExecutionError, type Hex, parseEventLogs } from 'viem'
import { collectorAbi } from '../../chain/abis.js'
import { type OperatorTx, operatorWalletFor } from '../../chain/operatorWallet.js'
import {
  type ClaimedCharge,
  markChargeCollected,
  recordChargesTxHash,
  releaseCharges,
} from '../../ledger/index.js'
import { subscriptionKey } from '../../subscriptions/typedData.js'
import { failureReasons, type SettlementContext, unpackCollected } from '../context.js'
import { applyFailure } from './applyFailure.js'
import type { SettleReport } from './report.js'

const idOfKey = (key: Hex) => key.slice(-32)

/** Puts a batch's charges back to `booked` (nothing of it was pulled) and closes the batch. */
async function release(ctx: SettlementContext, batchId: bigint, ids: string[]) {
  await ctx.db.$client.begin(async (t) => {
    await releaseCharges(t, { chargeIds: ids })
    await t`update settlement_batches set status = 'reconciled', updated_at = clock_timestamp() where id = ${batchId.toString()}`
  })
}

/**
 * Sends one claimed batch and settles each charge from the receipt's events.
 *
 * @example
 * await sendBatch(ctx, claimed.batchId, claimed.charges, report)
 */
export async function sendBatch(
  ctx: SettlementContext,
  batchId: bigint,
  charges: ClaimedCharge[],
  report: SettleReport,
): Promise<void> {
  const items = charges.map((c) => ({
    subscription: subscriptionKey(c.subscription_id),
    seq: c.seq,
    window: c.window_index,
    amount: c.amount,
  }))
  const ids = charges.map((c) => c.id.toString())
  const wallet = await operatorWalletFor(ctx.db, ctx.operator, ctx.log)
  let tx: OperatorTx
  try {
    // Signed and recorded (operator_txs, purpose batch:<id>) before it is broadcast.
    tx = await wallet.sendContract({
      address: ctx.deployment.collector!,
      abi: collectorAbi,
      functionName: 'collectBatch',
      args: [items],
      purpose: `batch:${batchId}`,
      beforeBroadcast: () => ctx.onStep?.('signed'),
    })
  } catch (error) {
    // Refused before sending (the estimate reverted): nothing can be in flight, release now.
    // Any other failure (the RPC went away mid-send) is left to recovery, which asks the chain.
    if (error instanceof ContractFunctionExecutionError) await release(ctx, batchId, ids)
    throw error
  }
  let hash = tx.hashes[0]!
  await ctx.db.$client.begin(async (t) => {
    await t`update settlement_batches set status = 'sent', tx_hash = ${hash}, tx_hashes = array_append(tx_hashes, ${hash}), updated_at = clock_timestamp() where id = ${batchId.toString()}`
    await recordChargesTxHash(t, { chargeIds: ids, txHash: hash })
  })
  report.txHashes.push(hash)
  await ctx.onStep?.('sent')
  // A stuck transaction is replaced (same calldata and nonce, higher fees); every hash is
  // recorded first, and the collector's sequence numbers make it impossible for two to pull.
  const receipt = await wallet.waitFor(tx, {
    confirmations: ctx.confirmations,
    replaceAfterMs: ctx.replaceAfterMs,
    onReplace: async (replacement) => {
      await ctx.db.$client.begin(async (t) => {
        await t`update settlement_batches set tx_hash = ${replacement}, tx_hashes = array_append(tx_hashes, ${replacement}), updated_at = clock_timestamp() where id = ${batchId.toString()}`
        await recordChargesTxHash(t, { chargeIds: ids, txHash: replacement })
      })
    },
  })
  if (!receipt) {
    // The nonce went to a transaction we never signed: nothing of this batch landed.
    await release(ctx, batchId, ids)
    return
  }
  hash = receipt.transactionHash
  report.gasUsed += receipt.gasUsed
  await ctx.onStep?.('receipt')
  if (receipt.status !== 'success') {
    // The whole call reverted (out of gas, operator removed): nothing was pulled; send again later.
    await release(ctx, batchId, ids)
    return
  }
  const byKey = new Map(charges.map((c) => [`${c.subscription_id}:${c.seq}`, c]))
  for (const log of parseEventLogs({ abi: collectorAbi, logs: receipt.logs })) {
    if (log.eventName === 'Collected') {
      const { seq } = unpackCollected(log.args.packed)
      const c = byKey.get(`${idOfKey(log.args.subscription)}:${seq}`)
      if (!c) continue
      byKey.delete(`${c.subscription_id}:${c.seq}`)
      await markChargeCollected(ctx.db, { chargeId: c.id.toString(), txHash: hash })
      report.collected++
    } else if (log.eventName === 'ChargeFailed') {
      const c = byKey.get(`${idOfKey(log.args.subscription)}:${log.args.seq}`)
      if (!c) continue
      byKey.delete(`${c.subscription_id}:${c.seq}`)
      await applyFailure(ctx, c, failureReasons[log.args.reason] ?? 'token_reverted', report)
    }
  }
  await ctx.db
    .$client`update settlement_batches set status = 'confirmed', gas_used = ${receipt.gasUsed.toString()}, updated_at = clock_timestamp() where id = ${batchId.toString()}`
}
