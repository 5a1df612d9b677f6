import type { Hex } from 'viem'
import { collectorAbi } from '../chain/abis.js'
import { operatorWalletFor } from '../chain/operatorWallet.js'
import { listCharges, setSubscriptionState, writeOffCharge } from '../ledger/index.js'
import { SignatureRejectedError } from '../subscriptions/errors.js'
import { subscriptionKey } from '../subscriptions/typedData.js'
import type { SettlementContext } from './context.js'
import { settleOnce } from './settleOnce.js'

export type CancelSubscriptionReturnType = {
  txHash: Hex
  collected: number
  writtenOff: Array<{ chargeId: string; amount: bigint; reason: string }>
}

/**
 * Cancels a subscription with the owner's signature. Accrued usage is collected before the
 * cancel takes effect (on-chain, nothing moves after it); what cannot be collected is written
 * off on the ledger with its reason. Then the collector cancels and the state follows.
 */
export async function cancelSubscription(
  ctx: SettlementContext,
  p: { orgId: string; subscriptionId: string; deadline: bigint; signature: Hex },
): Promise<CancelSubscriptionReturnType> {
  const report = await settleOnce({ ...ctx, thresholdMicros: 1n }, { orgIds: [p.orgId] })
  const writtenOff: CancelSubscriptionReturnType['writtenOff'] = []
  for (const charge of await listCharges(ctx.db, { orgId: p.orgId, limit: 1000 })) {
    if (
      charge.subscriptionId === p.subscriptionId &&
      (charge.status === 'booked' || charge.status === 'failed')
    ) {
      const reason = `canceled: ${charge.failureReason ?? 'not collected'}`
      await writeOffCharge(ctx.db, { chargeId: charge.id, reason })
      writtenOff.push({ chargeId: charge.id, amount: charge.amount, reason })
    }
  }
  const wallet = await operatorWalletFor(ctx.db, ctx.operator, ctx.log)
  const tx = await wallet
    .sendContract({
      address: ctx.deployment.collector!,
      abi: collectorAbi,
      functionName: 'cancelWithSignature',
      args: [subscriptionKey(p.subscriptionId), p.deadline, p.signature],
      purpose: `cancel:${p.subscriptionId}`,
    })
    .catch((e) => {
      throw new SignatureRejectedError(
        'rejected',
        `the collector refused the cancel: ${e instanceof Error ? e.message.split('\n')[0] : e}`,
      )
    })
  const receipt = await wallet.waitFor(tx, { replaceAfterMs: ctx.replaceAfterMs })
  if (receipt?.status !== 'success')
    throw new SignatureRejectedError('reverted', 'the cancel transaction did not go through', {
      tx_hash: tx.hashes.at(-1),
    })
  const hash = receipt.transactionHash
  await setSubscriptionState(ctx.db, {
    subscriptionId: p.subscriptionId,
    to: 'canceled',
    cause: 'owner',
    reason: 'canceled_by_signature',
  })
  return { txHash: hash, collected: report.collected, writtenOff }
}
