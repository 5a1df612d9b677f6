import { bookCharges, listAccruedAccounts } from '../../ledger/index.js'
import { submitHeldAuthorization } from '../../subscriptions/submitHeldAuthorization.js'
import { checkChainTruth } from '../checkChainTruth.js'
import type { SettlementContext } from '../context.js'

/**
 * Books a charge for every active org whose accrued usage crossed the threshold or waited
 * too long. Booking locks the org's account, so two workers never book the same usage.
 *
 * @example
 * report.booked = await bookDueCharges(ctx, { orgIds })
 */
export async function bookDueCharges(
  ctx: SettlementContext,
  p: { orgIds?: string[] | undefined } = {},
): Promise<number> {
  const accrued = await listAccruedAccounts(ctx.db, {
    minAccruedMicros: ctx.thresholdMicros,
    maxAgeSeconds: ctx.maxAccrualAgeSeconds,
    orgIds: p.orgIds,
  })
  if (accrued.length === 0) return 0
  const held = await ctx.db.$client<{ subscription_id: string }[]>`
    select subscription_id from held_authorizations
    where subscription_id = any(${accrued.map((a) => a.subscriptionId)}::text[])
      and submitted_at is null and dropped_at is null`
  const heldIds = new Set(held.map((h) => h.subscription_id))
  // A counterfactual owner's held authorization goes on-chain now that a charge is due (and the
  // wallet can pay it); until it has, there is nothing on-chain to collect against.
  const sendable = []
  for (const d of accrued) {
    if (!heldIds.has(d.subscriptionId)) {
      sendable.push(d)
      continue
    }
    const sent = await submitHeldAuthorization(ctx, {
      orgId: d.orgId,
      subscriptionId: d.subscriptionId,
      amountDue: d.accrued,
    }).catch((error) => {
      // An RPC failure for one org must not stop the run for the others; the next run retries.
      ctx.log?.warn('held authorization not sent', { orgId: d.orgId, error: String(error) })
      return undefined
    })
    if (sent?.outcome === 'submitted' || sent?.outcome === 'none') sendable.push(d)
  }
  const due = sendable
  if (due.length === 0) return 0
  // Truth first: an org revoked, drained or canceled on-chain is not booked as if active.
  await checkChainTruth(ctx, { orgIds: due.map((d) => d.orgId) })
  let booked = 0
  for (const { orgId } of due) booked += (await bookCharges(ctx.db, { orgId })).length
  return booked
}
