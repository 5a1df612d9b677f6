import { moveChargeWindow } from './moveChargeWindow.js'
import type { Sql } from './sql.js'

export type CarryChargeIntoWindowParameters = {
  chargeId: string
  orgId: string
  subscriptionId: string
  amount: bigint
  /** The window the charge is in now. */
  from: number
  /** The window it goes in. */
  to: number
}

/**
 * Moves a charge into window `to`, where it now fits, as a claim sends it; carried into a later
 * window, it counts toward that window's limit on the ledger too, so the gate leaves the owner's
 * limit for it (the collector counts it there). Nothing happens when `from` is `to`.
 *
 * @example
 * await carryChargeIntoWindow(tx, { chargeId, orgId, subscriptionId, amount, from: 2, to: 3 })
 */
export async function carryChargeIntoWindow(
  sql: Sql,
  p: CarryChargeIntoWindowParameters,
): Promise<void> {
  if (p.from === p.to) return
  await moveChargeWindow(sql, { chargeId: p.chargeId, windowIndex: p.to })
  if (p.to > p.from)
    await sql`
      update billing_accounts set
        spend_window_spent = case when spend_window = ${p.to} then spend_window_spent + ${p.amount.toString()}::int8
                                  else ${p.amount.toString()}::int8 end,
        spend_window = ${p.to}
      where org_id = ${p.orgId} and subscription_id = ${p.subscriptionId} and spend_window <= ${p.to}`
}
