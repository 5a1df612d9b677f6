// The subscription row's money columns the ledger moves — the last seq booked, the allowance, what
// was drawn — written here, by the folder that owns the row, in the ledger's own transaction.
import { arrayParams, type Sql } from '../../ledger/sql.js'

/** Records the collector's last seq booked on a subscription. */
export async function setLastSeq(
  tx: Sql,
  p: { subscriptionId: string; seq: number },
): Promise<void> {
  await tx`update subscriptions set last_seq = ${p.seq} where id = ${p.subscriptionId}`
}

/** Writes the allowances that moved, one per subscription, in one statement. */
export async function saveAllowances(
  tx: Sql,
  p: { subscriptionIds: readonly string[]; allowances: readonly bigint[] },
): Promise<void> {
  await tx.unsafe(
    `update subscriptions s set allowance = v.allowance
     from unnest($1::text[], $2::int8[]) as v(id, allowance) where s.id = v.id`,
    arrayParams([p.subscriptionIds, p.allowances]),
    { prepare: true },
  )
}

/**
 * Adds a collected charge to what its subscription has drawn; the allowance of a subscription
 * that is no longer the org's current one shrinks with it (the current one's is saved with the
 * account).
 */
export async function recordDrawn(
  tx: Sql,
  p: { subscriptionId: string; currentSubscriptionId: string; amount: bigint },
): Promise<void> {
  await tx`
    update subscriptions set drawn = drawn + ${p.amount.toString()},
      allowance = case when id = ${p.currentSubscriptionId} then allowance else greatest(allowance - ${p.amount.toString()}, 0) end
    where id = ${p.subscriptionId}`
}
