import { insertSubscription, newSubscriptionId } from '../subscriptions/state/insertSubscription.js'
import { appendEntries, entryFor, lockAccount, saveAccounts } from './accounts.js'
import { nowMicros, type Sql } from './sql.js'

export type OpenBillingAccountParameters = {
  orgId: string
  /** The signup credit (a voucher); 0 for an org that gets none. Default $2 (2,000,000). */
  signupCreditMicros?: bigint
  windowSeconds?: number
}

export type OpenBillingAccountReturnType = { subscriptionId: string; created: boolean }

/** The signup credit when none is given: $2 (docs/design.md, Units and prices). */
const defaultSignupCreditMicros = 2_000_000n

/**
 * Opens an org's billing inside the caller's transaction (the one creating the org): a
 * `pending` subscription and the signup-credit grant on the ledger. Idempotent: a second call
 * returns the existing subscription.
 *
 * @example
 * await db.$client.begin((tx) => openBillingAccountIn(tx, { orgId }))
 */
export async function openBillingAccountIn(
  tx: Sql,
  p: OpenBillingAccountParameters,
): Promise<OpenBillingAccountReturnType> {
  const subscriptionId = newSubscriptionId()
  const inserted = await tx`
    insert into billing_accounts (org_id, subscription_id, voucher)
    values (${p.orgId}, ${subscriptionId}, 0)
    on conflict (org_id) do nothing
    returning org_id`
  if (inserted.length === 0) {
    const [row] = await tx<{ subscription_id: string }[]>`
      select subscription_id from billing_accounts where org_id = ${p.orgId}`
    return { subscriptionId: row!.subscription_id, created: false }
  }
  await insertSubscription(tx, {
    subscriptionId,
    orgId: p.orgId,
    windowSeconds: p.windowSeconds ?? 2_592_000,
    cause: 'system',
    reason: 'signup',
  })
  const account = await lockAccount(tx, p.orgId)
  account.voucher = p.signupCreditMicros ?? defaultSignupCreditMicros
  const entry = entryFor(account, {
    kind: 'voucher_grant',
    amount: account.voucher,
    at: nowMicros(),
    memo: 'signup credit',
  })
  await appendEntries(tx, [entry])
  await saveAccounts(tx, [account])
  return { subscriptionId, created: true }
}
