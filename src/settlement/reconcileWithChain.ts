import { collectorAbi } from '../chain/abis.js'
import { type LedgerMismatch, reconcileLedger } from '../ledger/index.js'
import { subscriptionKey } from '../subscriptions/typedData.js'
import type { SettlementContext } from './context.js'

/**
 * Compares the ledger with the chain, to the micro-credit: for every subscription, what the
 * ledger says was drawn, what the mirrored payment history holds, and what the collector
 * itself reports as collected (`totalCollected`); plus every ledger-internal check
 * (`reconcileLedger`). Returns each difference; none means the books match the chain.
 */
export async function reconcileWithChain(
  ctx: SettlementContext,
  p: { orgId?: string } = {},
): Promise<LedgerMismatch[]> {
  const out = await reconcileLedger(ctx.db, p)
  const subs = await ctx.db.$client<
    { id: string; org_id: string; drawn: bigint; history: bigint; owner: string | null }[]
  >`
    select s.id, s.org_id, s.drawn, s.owner,
      coalesce((select sum(h.amount) from payment_history h
        where h.subscription_id = s.id and h.event = 'Collected' and h.chain_id = ${ctx.deployment.chainId}), 0)::int8 as history
    from subscriptions s
    where s.owner is not null and (${p.orgId ?? null}::uuid is null or s.org_id = ${p.orgId ?? null}::uuid)
    order by s.org_id, s.id`
  for (const s of subs) {
    const onChain = await ctx.operator.readContract({
      address: ctx.deployment.collector!,
      abi: collectorAbi,
      functionName: 'getSubscription',
      args: [subscriptionKey(s.id)],
    })
    const total = BigInt(onChain.totalCollected)
    if (total !== s.drawn) {
      out.push({
        orgId: s.org_id,
        check: `drawn = collector totalCollected (${s.id})`,
        expected: total.toString(),
        actual: s.drawn.toString(),
      })
    }
    if (total !== s.history) {
      out.push({
        orgId: s.org_id,
        check: `payment history = collector totalCollected (${s.id})`,
        expected: total.toString(),
        actual: s.history.toString(),
      })
    }
  }
  return out
}
