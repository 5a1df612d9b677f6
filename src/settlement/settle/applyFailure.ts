import { collectorAbi } from '../../chain/abis.js'
import { type ClaimedCharge, markChargeCollected, markChargeFailed } from '../../ledger/index.js'
import { setSubscriptionState } from '../../subscriptions/state/authorizeSubscription.js'
import { subscriptionKey } from '../../subscriptions/typedData.js'
import { type FailureReason, type SettlementContext, stateForFailure } from '../context.js'
import { isPayeeBlacklisted } from '../isPayeeBlacklisted.js'
import { resolveOwnerCancel } from '../resolveOwnerCancel.js'
import { findCollection } from './findCollection.js'
import type { SettleReport } from './report.js'

/**
 * A pull refused as a seq gap: the collector's next seq (`lastSeq + 1`) is not this one. When
 * the ledger will never send that seq (its charge written off, collected as far as the ledger
 * knows, or missing — lost off-chain), retrying is a loop that pays gas every pass: the charge
 * is held as `seq_blocked`, reported and logged with the seq to retire, and sent again once
 * the collector's next seq is its own. Returns the blocking seq, or undefined for a gap that
 * clears by itself (the seq before is still on its way).
 */
async function blockingSeq(ctx: SettlementContext, charge: ClaimedCharge) {
  const last = await ctx.operator.readContract({
    address: ctx.deployment.collector!,
    abi: collectorAbi,
    functionName: 'lastSeq',
    args: [subscriptionKey(charge.subscription_id)],
  })
  const next = last + 1
  if (next >= charge.seq) return undefined
  const [pending] = await ctx.db.$client<{ id: bigint }[]>`
    select id from charges where subscription_id = ${charge.subscription_id} and seq = ${next}
      and status in ('booked', 'submitted', 'failed')`
  return pending ? undefined : next
}

/**
 * Settles a charge the collector refused (`ChargeFailed`): records the failure and what it means
 * for the subscription — pulled before after all, held behind a seq to retire, waiting for the
 * payee, or the subscription's new state.
 *
 * @example
 * await applyFailure(ctx, charge, 'allowance', report)
 */
export async function applyFailure(
  ctx: SettlementContext,
  charge: ClaimedCharge,
  reason: FailureReason,
  report: SettleReport,
): Promise<void> {
  if (reason === 'seq_used') {
    // Pulled before (a replaced or re-sent batch): find that pull, never pull again.
    const found = await findCollection(ctx, charge.subscription_id, charge.seq)
    if (found) {
      await markChargeCollected(ctx.db, { chargeId: charge.id.toString(), txHash: found.txHash })
      report.collected++
      return
    }
  }
  if (reason === 'seq_gap') {
    const seq = await blockingSeq(ctx, charge)
    if (seq !== undefined) {
      await markChargeFailed(ctx.db, { chargeId: charge.id.toString(), reason: 'seq_blocked' })
      report.failed.push({ chargeId: charge.id.toString(), reason: 'seq_blocked' })
      report.blocked.push({
        subscriptionId: charge.subscription_id,
        seq,
        chargeId: charge.id.toString(),
      })
      ctx.log?.warn('subscription blocked behind a seq that will never be collected: retire it', {
        subscriptionId: charge.subscription_id,
        seq,
      })
      return
    }
  }
  if (reason === 'blacklisted' && (await isPayeeBlacklisted(ctx.operator, ctx.deployment))) {
    // The collector says "blacklisted" for the payee too: nobody's pull can land, and no owner
    // lapses for it. The charge waits, sent again once the payee is cleared.
    await markChargeFailed(ctx.db, { chargeId: charge.id.toString(), reason: 'payee_blacklisted' })
    report.failed.push({ chargeId: charge.id.toString(), reason: 'payee_blacklisted' })
    report.payeeBlacklisted = true
    return
  }
  await markChargeFailed(ctx.db, { chargeId: charge.id.toString(), reason })
  report.failed.push({ chargeId: charge.id.toString(), reason })
  if (reason === 'canceled') {
    // The owner canceled on-chain themselves: what is owed can never be pulled.
    await resolveOwnerCancel(ctx, {
      orgId: charge.org_id,
      subscriptionId: charge.subscription_id,
      reason: 'pull_failed:canceled',
    })
    return
  }
  const to = stateForFailure(reason)
  if (to) {
    const [s] = await ctx.db.$client<
      { state: string }[]
    >`select state from subscriptions where id = ${charge.subscription_id}`
    if (s && s.state !== to && s.state !== 'canceled') {
      await setSubscriptionState(ctx.db, {
        subscriptionId: charge.subscription_id,
        to,
        cause: 'chain',
        reason: `pull_failed:${reason}`,
      })
    }
  }
}
