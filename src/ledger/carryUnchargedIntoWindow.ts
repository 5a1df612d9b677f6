import type { Db } from '../db/client.js'
import { lockAccount } from './accounts.js'
import { windowIndexAt } from './decide.js'
import { nowMicros } from './sql.js'

export type CarryUnchargedIntoWindowReturnType = {
  /** The window now counted (the collector's current one), or null without windows. */
  windowIndex: number | null
  /** What it holds now: every billable action not yet charged. */
  spent: bigint
}

/**
 * When the collector's windows begin after usage was metered — a counterfactual owner's held
 * authorization landing with its first charge — everything not yet charged is collected in the
 * collector's current window (`bookCharges` books it there), so the monthly meter of that window
 * starts at its sum, not at zero: the monthly limit the owner signed then holds on-chain too.
 *
 * @example
 * await carryUnchargedIntoWindow(db, { orgId, subscriptionId })
 */
export async function carryUnchargedIntoWindow(
  db: Db,
  p: { orgId: string; subscriptionId: string },
): Promise<CarryUnchargedIntoWindowReturnType> {
  return await db.$client.begin(async (tx) => {
    const account = await lockAccount(tx, p.orgId)
    if (account.subscriptionId !== p.subscriptionId) return { windowIndex: null, spent: 0n }
    const windowIndex = windowIndexAt(account.windowStart, account.windowSeconds, nowMicros())
    if (windowIndex === null) return { windowIndex, spent: 0n }
    // Reservations count while open, as the gate counted them (a void gives them back).
    const [row] = await tx<{ spent: bigint }[]>`
      select coalesce(sum(billable_amount), 0)::int8 as spent from usage
      where org_id = ${p.orgId} and subscription_id = ${p.subscriptionId} and charge_id is null
        and billable_amount > 0 and status in ('recorded', 'committed', 'reserved')`
    const spent = BigInt(row?.spent ?? 0n)
    await tx`
      update billing_accounts set spend_window = ${windowIndex}, spend_window_spent = ${spent.toString()}
      where org_id = ${p.orgId}`
    return { windowIndex, spent }
  })
}
