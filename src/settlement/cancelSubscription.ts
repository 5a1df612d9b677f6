import type { Hex } from 'viem'
import { verifyOwnerSignature } from '../aa/verifyOwnerSignature.js'
import { collectorAbi } from '../chain/abis.js'
import { operatorWalletFor } from '../chain/operatorWallet.js'
import { RetryableError } from '../errors.js'
import { bookCharges, listCharges, setSubscriptionState, writeOffCharge } from '../ledger/index.js'
import { SignatureRejectedError } from '../subscriptions/errors.js'
import { dropHeldAuthorization, getUnsubmittedHeld } from '../subscriptions/heldAuthorizations.js'
import { cancelTypedData, subscriptionKey } from '../subscriptions/typedData.js'
import type { SettlementContext } from './context.js'
import { settleOnce } from './settleOnce.js'
import { withHeldLock } from './submitHeldAuthorization.js'

export type CancelSubscriptionReturnType = {
  /** Null when the subscription's authorization was still held: nothing was ever on-chain. */
  txHash: Hex | null
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
  // Held and never sent (still waiting, or dropped as unusable): the collector has never heard
  // of this subscription, so there is nothing to cancel on-chain.
  if (
    (await getUnsubmittedHeld(ctx.db, {
      subscriptionId: p.subscriptionId,
      includeDropped: true,
    })) &&
    !(await knownToCollector(ctx, p.subscriptionId))
  ) {
    const held = await withHeldLock(ctx.db, p.subscriptionId, () => cancelHeld(ctx, p))
    if (!held) throw new RetryableError('the subscription is being settled right now; try again')
    return held
  }
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

/**
 * Cancels a subscription whose authorization is still held: the collector has never heard of it,
 * so the owner's cancel signature is verified off-chain (as the collector would: ECDSA, ERC-1271
 * or ERC-6492), the held authorization is dropped, what is owed is written off, and nothing is
 * sent — deploying the wallet only to cancel would make the operator pay for nothing.
 */
async function cancelHeld(
  ctx: SettlementContext,
  p: { orgId: string; subscriptionId: string; deadline: bigint; signature: Hex },
): Promise<CancelSubscriptionReturnType> {
  const held = await getUnsubmittedHeld(ctx.db, {
    subscriptionId: p.subscriptionId,
    includeDropped: true,
  })
  if (!held || held.orgId !== p.orgId || (await knownToCollector(ctx, p.subscriptionId)))
    throw new RetryableError('the held authorization changed meanwhile; try again')
  if (p.deadline <= BigInt(Math.floor(Date.now() / 1000)))
    throw new SignatureRejectedError('expired', 'the cancel signature has expired; sign again')
  const { valid } = await verifyOwnerSignature(ctx.operator, {
    owner: held.auth.owner,
    typedData: cancelTypedData({
      chainId: ctx.deployment.chainId,
      collector: ctx.deployment.collector!,
      message: { subscription: subscriptionKey(p.subscriptionId), deadline: p.deadline },
    }),
    signature: p.signature,
  })
  if (!valid)
    throw new SignatureRejectedError('rejected', 'the cancel signature is not the owner’s')
  await dropHeldAuthorization(ctx.db, { subscriptionId: p.subscriptionId, reason: 'canceled' })
  // Nothing was ever collectable: everything accrued is booked and written off, on the record.
  await bookCharges(ctx.db, { orgId: p.orgId })
  const writtenOff: CancelSubscriptionReturnType['writtenOff'] = []
  for (const charge of await listCharges(ctx.db, { orgId: p.orgId, limit: 1000 })) {
    if (
      charge.subscriptionId === p.subscriptionId &&
      (charge.status === 'booked' || charge.status === 'failed')
    ) {
      const reason = 'canceled: held authorization never sent'
      await writeOffCharge(ctx.db, { chargeId: charge.id, reason })
      writtenOff.push({ chargeId: charge.id, amount: charge.amount, reason })
    }
  }
  await setSubscriptionState(ctx.db, {
    subscriptionId: p.subscriptionId,
    to: 'canceled',
    cause: 'owner',
    reason: 'canceled_by_signature',
  })
  return { txHash: null, collected: 0, writtenOff }
}

/** Whether the collector has the subscription (authorized once, active or canceled). */
async function knownToCollector(ctx: SettlementContext, subscriptionId: string) {
  const onChain = await ctx.operator.readContract({
    address: ctx.deployment.collector!,
    abi: collectorAbi,
    functionName: 'getSubscription',
    args: [subscriptionKey(subscriptionId)],
  })
  return Number(onChain.status) !== 0
}
