import { type ClaimedCharge, claimCharges } from '../../ledger/index.js'
import { refreshLimitWaiting } from '../../subscriptions/state/refreshLimitWaiting.js'
import type { SettlementContext } from '../context.js'
import { limitCleared } from './limitCleared.js'
import { retryable } from './report.js'
import { seqUnblocked } from './seqUnblocked.js'
import { carryIntoWindow, keepWindowsMonotonic, rewindowStale } from './windows.js'

export type ClaimBatchReturnType = { batchId: bigint; charges: ClaimedCharge[] } | undefined

/**
 * Claims sendable charges and records the batch's intent in one transaction, before anything
 * is sent: charges go `submitted` (other workers skip them), the batch row lists them.
 *
 * The collector takes a subscription's charges in sequence only (`seq == last + 1`): a charge
 * waits while an earlier one of its subscription is in flight or failed for a reason a retry
 * cannot clear — sent, it could only fail as a seq gap, paying gas for nothing (and, seq gaps
 * being retried, again and again). `sent` are the charges this pass already sent: none goes
 * twice in one pass, so a pass always ends. A charge refused for the owner's limit is sent again
 * once it fits (`limitCleared`).
 *
 * @example
 * const claimed = await claimBatch(ctx, 100, sent)
 */
export async function claimBatch(
  ctx: SettlementContext,
  limit: number,
  sent: readonly string[],
): Promise<ClaimBatchReturnType> {
  const [fitting, unblocked] = await Promise.all([limitCleared(ctx, sent), seqUnblocked(ctx, sent)])
  const fittingIds = [...fitting.keys(), ...unblocked]
  return await ctx.db.$client.begin(async (tx) => {
    const charges = await claimCharges(tx, { limit, retryable, alsoIds: fittingIds, sent })
    if (charges.length === 0) return undefined
    for (const c of charges) {
      const window = fitting.get(c.id.toString())
      if (window !== undefined) await carryIntoWindow(tx, c, window)
    }
    // Sent again, they no longer wait: the window they go in counts them now.
    await refreshLimitWaiting(tx, {
      subscriptionIds: charges
        .filter((c) => fitting.has(c.id.toString()))
        .map((c) => c.subscription_id),
    })
    const current = await rewindowStale(ctx, tx, charges)
    await keepWindowsMonotonic(tx, charges, current)
    charges.sort((a, b) =>
      a.subscription_id === b.subscription_id
        ? a.seq - b.seq
        : a.subscription_id < b.subscription_id
          ? -1
          : 1,
    )
    const [batch] = await tx<{ id: bigint }[]>`
      insert into settlement_batches (chain_id, operator, status, charge_ids)
      values (${ctx.deployment.chainId}, ${ctx.operator.account.address}, 'intent', ${charges.map((c) => c.id.toString())}::int8[])
      returning id`
    return { batchId: batch!.id, charges }
  })
}
