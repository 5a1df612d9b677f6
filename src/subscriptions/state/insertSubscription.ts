import { randomBytes } from 'node:crypto'
import type { Sql } from '../../ledger/sql.js'
import type { TransitionCause } from './states.js'

/** A new public subscription id: 128 random bits, hex. */
export const newSubscriptionId = () => randomBytes(16).toString('hex')

export type InsertSubscriptionParameters = {
  subscriptionId: string
  orgId: string
  windowSeconds: number
  /** Who opened it: `system` at signup, `owner` for a new one after a cancel. */
  cause: TransitionCause
  /** Why, on its first transition (`signup`, `replaces:<id>`). */
  reason: string
}

/**
 * Writes a new `pending` subscription row and its first transition (from none to `pending`), in
 * the caller's transaction.
 */
export async function insertSubscription(tx: Sql, p: InsertSubscriptionParameters): Promise<void> {
  await tx`
    insert into subscriptions (id, org_id, state, state_changed_at, window_seconds)
    values (${p.subscriptionId}, ${p.orgId}, 'pending', clock_timestamp(), ${p.windowSeconds})`
  await tx`
    insert into subscription_transitions (subscription_id, from_state, to_state, cause, reason)
    values (${p.subscriptionId}, null, 'pending', ${p.cause}, ${p.reason})`
}
