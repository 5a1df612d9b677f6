import { collectorAbi } from '../../chain/abis.js'
import { type ClaimedCharge, markChargeCollected, releaseCharges } from '../../ledger/index.js'
import { subscriptionKey } from '../../subscriptions/typedData.js'
import type { SettlementContext } from '../context.js'
import { resolveOwnerCancel } from '../resolveOwnerCancel.js'
import { findCollection } from './findCollection.js'

/**
 * Reconciles batches a dead worker left behind (intent recorded, maybe sent, outcome not
 * recorded) with the chain: the collector's `lastSeq` says whether each charge was pulled;
 * pulled ones are marked collected with their transaction, the rest go back to `booked` and
 * are sent again with the same sequence number — which the collector accepts at most once.
 * Returns how many charges it settled either way.
 *
 * @example
 * report.recovered = await recoverOpenBatches(ctx, { olderThanSeconds: 120 })
 */
export async function recoverOpenBatches(
  ctx: SettlementContext,
  p: { olderThanSeconds?: number | undefined } = {},
): Promise<number> {
  const open = await ctx.db.$client<{ id: bigint; charge_ids: bigint[] }[]>`
    select id, charge_ids from settlement_batches
    where status in ('intent', 'sent') and chain_id = ${ctx.deployment.chainId}
      and updated_at < clock_timestamp() - make_interval(secs => ${p.olderThanSeconds ?? 120})
    order by id`
  let recovered = 0
  for (const batch of open) {
    const charges = await ctx.db.$client<(ClaimedCharge & { status: string })[]>`
      select id, org_id, subscription_id, seq, window_index, amount, status from charges
      where id = any(${batch.charge_ids.map(String)}::int8[])`
    for (const c of charges) {
      if (c.status !== 'submitted') continue
      const last = await ctx.operator.readContract({
        address: ctx.deployment.collector!,
        abi: collectorAbi,
        functionName: 'lastSeq',
        args: [subscriptionKey(c.subscription_id)],
      })
      const found = last >= c.seq ? await findCollection(ctx, c.subscription_id, c.seq) : undefined
      if (found)
        await markChargeCollected(ctx.db, { chargeId: c.id.toString(), txHash: found.txHash })
      else await releaseCharges(ctx.db.$client, { chargeIds: [c.id.toString()] })
      recovered++
    }
    await ctx.db
      .$client`update settlement_batches set status = 'reconciled', updated_at = clock_timestamp() where id = ${batch.id.toString()}`
    // Back to booked on a subscription canceled meanwhile: nothing can pull them any more.
    const canceled = await ctx.db.$client<{ org_id: string; subscription_id: string }[]>`
      select distinct c.org_id, c.subscription_id from charges c join subscriptions s on s.id = c.subscription_id
      where c.id = any(${batch.charge_ids.map(String)}::int8[]) and c.status = 'booked' and s.state = 'canceled'`
    for (const c of canceled)
      await resolveOwnerCancel(ctx, {
        orgId: c.org_id,
        subscriptionId: c.subscription_id,
        reason: 'canceled',
      })
  }
  return recovered
}
