import { bookCharges } from '../../ledger/index.js'
import { checkChainTruth } from '../checkChainTruth.js'
import type { SettlementContext } from '../context.js'
import { submitHeldAuthorization } from '../submitHeldAuthorization.js'

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
  const found = await ctx.db.$client<
    { org_id: string; subscription_id: string; accrued: bigint; held: boolean }[]
  >`
    select a.org_id, a.subscription_id, a.accrued,
      exists (select 1 from held_authorizations h where h.subscription_id = a.subscription_id
              and h.submitted_at is null and h.dropped_at is null) as held
    from billing_accounts a join subscriptions s on s.id = a.subscription_id
    where s.state = 'active' and a.accrued > 0
      and (a.accrued >= ${ctx.thresholdMicros.toString()}::int8
           or a.accrued_since < clock_timestamp() - make_interval(secs => ${ctx.maxAccrualAgeSeconds}))
      and (${p.orgIds ?? null}::uuid[] is null or a.org_id = any(${p.orgIds ?? null}::uuid[]))
    order by a.org_id`
  if (found.length === 0) return 0
  // A counterfactual owner's held authorization goes on-chain now that a charge is due (and the
  // wallet can pay it); until it has, there is nothing on-chain to collect against.
  const sendable = []
  for (const d of found) {
    if (!d.held) {
      sendable.push(d)
      continue
    }
    const held = await submitHeldAuthorization(ctx, {
      orgId: d.org_id,
      subscriptionId: d.subscription_id,
      amountDue: BigInt(d.accrued),
    }).catch((error) => {
      // An RPC failure for one org must not stop the run for the others; the next run retries.
      ctx.log?.warn('held authorization not sent', { orgId: d.org_id, error: String(error) })
      return undefined
    })
    if (held?.outcome === 'submitted' || held?.outcome === 'none') sendable.push(d)
  }
  const due = sendable
  if (due.length === 0) return 0
  // Truth first: an org revoked, drained or canceled on-chain is not booked as if active.
  await checkChainTruth(ctx, { orgIds: due.map((d) => d.org_id) })
  let booked = 0
  for (const { org_id } of due) booked += (await bookCharges(ctx.db, { orgId: org_id })).length
  return booked
}
