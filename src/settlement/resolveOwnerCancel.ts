import { bookCharges, writeOffCharge } from '../ledger/index.js'
import { setSubscriptionState } from '../subscriptions/state/authorizeSubscription.js'
import type { SettlementContext } from './context.js'

export type ResolveOwnerCancelParameters = {
  orgId: string
  subscriptionId: string
  /** How it was learned: `canceled_on_chain` (a check) or `pull_failed:canceled` (a pull). */
  reason: string
}

/**
 * The owner canceled on-chain with their own transaction: nothing can be pulled any more, so
 * what is still owed (accrued usage, booked and failed charges) is written off on the record,
 * with the reason, and the subscription is canceled — however it was learned, no debt is left
 * booked against a subscription that can never pay it.
 */
export async function resolveOwnerCancel(
  ctx: SettlementContext,
  p: ResolveOwnerCancelParameters,
): Promise<{ writtenOff: number }> {
  // Accrued usage is the org's current subscription's (a new one may follow a cancel).
  const [current] = await ctx.db.$client<{ subscription_id: string }[]>`
    select subscription_id from billing_accounts where org_id = ${p.orgId}`
  if (current?.subscription_id === p.subscriptionId) await bookCharges(ctx.db, { orgId: p.orgId })
  // Charges still in flight (submitted) are left to their batch: a cancel fails them too, and
  // they come back through here.
  const owed = await ctx.db.$client<{ id: bigint }[]>`
    select id from charges
    where subscription_id = ${p.subscriptionId} and status in ('booked', 'failed')
    order by seq`
  for (const c of owed)
    await writeOffCharge(ctx.db, {
      chargeId: c.id.toString(),
      reason: 'canceled on-chain by the owner',
    })
  const [s] = await ctx.db.$client<{ state: string }[]>`
    select state from subscriptions where id = ${p.subscriptionId}`
  if (s && s.state !== 'canceled')
    await setSubscriptionState(ctx.db, {
      subscriptionId: p.subscriptionId,
      to: 'canceled',
      cause: 'chain',
      reason: p.reason,
    })
  return { writtenOff: owed.length }
}
