import type { Sql } from './sql.js'

/**
 * Points an org's billing account at its new current subscription, with the window's spend
 * restarted, in the caller's transaction (`startNewSubscription`'s, after a cancel).
 */
export async function switchSubscription(
  tx: Sql,
  p: { orgId: string; subscriptionId: string },
): Promise<void> {
  await tx`
    update billing_accounts set subscription_id = ${p.subscriptionId}, spend_window = 0,
      spend_window_spent = 0, updated_at = clock_timestamp()
    where org_id = ${p.orgId}`
}
