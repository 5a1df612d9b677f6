import { randomBytes } from 'node:crypto'
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

/** A new public subscription id: 128 random bits, hex. */
export const newSubscriptionId = () => randomBytes(16).toString('hex')

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
  await tx`
    insert into subscriptions (id, org_id, state, state_changed_at, window_seconds)
    values (${subscriptionId}, ${p.orgId}, 'pending', clock_timestamp(), ${p.windowSeconds ?? 2_592_000})`
  await tx`
    insert into subscription_transitions (subscription_id, from_state, to_state, cause, reason)
    values (${subscriptionId}, null, 'pending', 'system', 'signup')`
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
