import { ContractFunctionRevertedError, type Hex, BaseError as ViemBaseError } from 'viem'
import { collectorAbi } from '../chain/abis.js'
import { operatorWalletFor } from '../chain/operatorWallet.js'
import { BaseError, NotFoundError, ValidationError } from '../core/errors.js'
import { writeOffCharge } from '../ledger/index.js'
import { subscriptionKey } from '../subscriptions/typedData.js'
import type { SettlementContext } from './context.js'

/** The seq cannot be retired (in flight, collected, has a charge, or not the next on-chain). */
class RetireRefusedError extends BaseError {
  override name = 'RetireRefusedError'
  constructor(reason: string, message: string, details?: Record<string, unknown>) {
    super(message, { code: 'RETIRE_REFUSED', details: { reason, ...details } })
  }
}

export type RetireChargeReturnType = {
  chargeId: string
  subscriptionId: string
  seq: number
  amount: bigint
  txHash: Hex
}

/**
 * Retires a charge that can never be collected: the collector records its seq as used without
 * collecting it (`retireSeq`, with the reason in its `SeqRetired` event), so the subscription's
 * next charge (seq + 1) can be collected and this one never can; only after that receipt is the
 * charge written off on the ledger, with the same reason. A charge in flight or collected is
 * refused, and so is one whose seq is not the next on-chain (an earlier one blocks first, or it
 * was used already) — nothing is sent, nothing written off. The collector is the arbiter: a pull
 * of the same seq that lands first makes the retire revert, and then nothing is written off.
 */
export async function retireCharge(
  ctx: SettlementContext,
  p: { chargeId: string; reason: string },
): Promise<RetireChargeReturnType> {
  const reason = p.reason.trim()
  if (!reason) throw new RetireRefusedError('no_reason', 'say why the charge is retired (--reason)')
  if (!/^\d+$/.test(p.chargeId)) throw new NotFoundError(`no charge ${p.chargeId}`)
  const [charge] = await ctx.db.$client<
    { id: string; subscription_id: string; seq: number; amount: bigint; status: string }[]
  >`select id::text, subscription_id, seq, amount, status from charges where id = ${p.chargeId}`
  if (!charge) throw new NotFoundError(`no charge ${p.chargeId}`)
  if (charge.status === 'collected' || charge.status === 'submitted')
    throw new RetireRefusedError(
      charge.status,
      `charge ${p.chargeId} is ${charge.status}: only a charge that will never be collected can be retired`,
    )
  const txHash = await retireOnChain(ctx, {
    subscriptionId: charge.subscription_id,
    seq: charge.seq,
    reason,
    purpose: `retire:${p.chargeId}`,
  })
  await writeOffCharge(ctx.db, { chargeId: p.chargeId, reason: `retired: ${reason}` })
  return {
    chargeId: p.chargeId,
    subscriptionId: charge.subscription_id,
    seq: charge.seq,
    amount: charge.amount,
    txHash,
  }
}

export type RetireSeqReturnType = { subscriptionId: string; seq: number; txHash: Hex }

/**
 * Retires a seq the ledger allocated but holds no charge for (its row lost, e.g. a database
 * restored from before it was booked): the collector would hold every later charge behind it
 * (`seq_gap`) for good. Only a seq the ledger has allocated (≤ the subscription's last seq), that
 * no charge row carries, and that is the next one on-chain is retired; nothing is written off,
 * since no charge owed it. The reason is in the `SeqRetired` event, the intent in operator_txs.
 */
export async function retireSeq(
  ctx: SettlementContext,
  p: { subscriptionId: string; seq: number; reason: string },
): Promise<RetireSeqReturnType> {
  const reason = p.reason.trim()
  if (!reason) throw new RetireRefusedError('no_reason', 'say why the seq is retired (--reason)')
  if (!Number.isSafeInteger(p.seq) || p.seq < 1 || p.seq > 0xffffffff)
    throw new ValidationError('seq must be a whole number from 1', { field: 'seq' })
  const [sub] = await ctx.db.$client<{ last_seq: number; charge_id: string | null }[]>`
    select s.last_seq, (select c.id::text from charges c
                        where c.subscription_id = s.id and c.seq = ${p.seq}) as charge_id
    from subscriptions s where s.id = ${p.subscriptionId}`
  if (!sub) throw new NotFoundError(`no subscription ${p.subscriptionId}`)
  if (sub.charge_id !== null)
    throw new RetireRefusedError(
      'has_charge',
      `seq ${p.seq} is charge ${sub.charge_id}: retire the charge (--charge ${sub.charge_id})`,
      { charge_id: sub.charge_id },
    )
  if (p.seq > sub.last_seq)
    throw new RetireRefusedError(
      'not_allocated',
      `seq ${p.seq} was never allocated (the ledger's last seq is ${sub.last_seq}): the next charge will carry it`,
      { last_seq: sub.last_seq },
    )
  const txHash = await retireOnChain(ctx, {
    subscriptionId: p.subscriptionId,
    seq: p.seq,
    reason,
    purpose: `retire:${p.subscriptionId}:${p.seq}`,
  })
  return { subscriptionId: p.subscriptionId, seq: p.seq, txHash }
}

/** `retireSeq` on the collector, once the seq is the next one there; returns the mined hash. */
async function retireOnChain(
  ctx: SettlementContext,
  p: { subscriptionId: string; seq: number; reason: string; purpose: string },
): Promise<Hex> {
  const key = subscriptionKey(p.subscriptionId)
  const last = await ctx.operator.readContract({
    address: ctx.deployment.collector!,
    abi: collectorAbi,
    functionName: 'lastSeq',
    args: [key],
  })
  if (p.seq !== last + 1)
    throw new RetireRefusedError(
      p.seq <= last ? 'seq_used' : 'not_next',
      p.seq <= last
        ? `seq ${p.seq} is already used on-chain (last ${last})`
        : `seq ${p.seq} is not next on-chain: seq ${last + 1} comes first`,
      { last_seq: last },
    )
  const wallet = await operatorWalletFor(ctx.db, ctx.operator, ctx.log)
  const tx = await wallet
    .sendContract({
      address: ctx.deployment.collector!,
      abi: collectorAbi,
      functionName: 'retireSeq',
      args: [key, p.seq, p.reason],
      purpose: p.purpose,
    })
    .catch((error) => {
      const reverted =
        error instanceof ViemBaseError
          ? error.walk((e) => e instanceof ContractFunctionRevertedError)
          : undefined
      const name =
        reverted instanceof ContractFunctionRevertedError ? reverted.data?.errorName : undefined
      throw new RetireRefusedError(
        name ?? 'rejected',
        `the collector refused the retire${name ? ` (${name})` : ''}`,
      )
    })
  const receipt = await wallet.waitFor(tx, { replaceAfterMs: ctx.replaceAfterMs })
  if (receipt?.status !== 'success')
    throw new RetireRefusedError('reverted', 'the retire transaction did not go through', {
      tx_hash: tx.hashes.at(-1),
    })
  return receipt.transactionHash
}
