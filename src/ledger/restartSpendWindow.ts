import type { Sql } from './sql.js'

/**
 * Restarts the monthly meter of the account billed through a subscription (its window's spend to
 * 0), in the caller's transaction: the chain's authorization started new windows.
 */
export async function restartSpendWindow(sql: Sql, p: { subscriptionId: string }): Promise<void> {
  await sql`
    update billing_accounts set spend_window = 0, spend_window_spent = 0
    where subscription_id = ${p.subscriptionId}`
}
