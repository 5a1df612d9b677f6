import { ContractFunctionRevertedError, type Hex, BaseError as ViemBaseError } from 'viem'
import { collectorAbi } from '../chain/abis.js'
import { operatorWalletFor } from '../chain/operatorWallet.js'
import { BaseError, NotFoundError } from '../errors.js'
import { writeOffCharge } from '../ledger/index.js'
import { subscriptionKey } from '../subscriptions/typedData.js'
import type { SettlementContext } from './context.js'

/** 409: the charge's seq cannot be retired (in flight, collected, or not the next one on-chain). */
class RetireRefusedError extends BaseError {
  override name = 'RetireRefusedError'
  constructor(reason: string, message: string, details?: Record<string, unknown>) {
    super(message, { code: 'RETIRE_REFUSED', status: 409, details: { reason, ...details } })
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
  const key = subscriptionKey(charge.subscription_id)
  const last = await ctx.operator.readContract({
    address: ctx.deployment.collector!,
    abi: collectorAbi,
    functionName: 'lastSeq',
    args: [key],
  })
  if (charge.seq !== last + 1)
    throw new RetireRefusedError(
      charge.seq <= last ? 'seq_used' : 'not_next',
      charge.seq <= last
        ? `seq ${charge.seq} is already used on-chain (last ${last})`
        : `seq ${charge.seq} is not next on-chain: seq ${last + 1} comes first`,
      { last_seq: last },
    )
  const wallet = await operatorWalletFor(ctx.db, ctx.operator, ctx.log)
  const tx = await wallet
    .sendContract({
      address: ctx.deployment.collector!,
      abi: collectorAbi,
      functionName: 'retireSeq',
      args: [key, charge.seq, reason],
      purpose: `retire:${p.chargeId}`,
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
  await writeOffCharge(ctx.db, { chargeId: p.chargeId, reason: `retired: ${reason}` })
  return {
    chargeId: p.chargeId,
    subscriptionId: charge.subscription_id,
    seq: charge.seq,
    amount: charge.amount,
    txHash: receipt.transactionHash,
  }
}
