import type { Sql } from '../../ledger/sql.js'

/**
 * Sets each subscription's `limit_waiting` to what its charges refused for the owner's limit
 * still owe (status `failed`, reason `limit`), which the gate counts against every window's
 * limit. Written only when it changed: a write to the subscription row makes the meter read the
 * account again. Run it in the transaction that moved a charge's status.
 */
export async function refreshLimitWaiting(
  sql: Sql,
  p: { subscriptionIds: readonly string[] },
): Promise<void> {
  if (p.subscriptionIds.length === 0) return
  await sql`
    update subscriptions s set limit_waiting = w.amount
    from (
      select id, coalesce((select sum(c.amount) from charges c
        where c.subscription_id = q.id and c.status = 'failed' and c.failure_reason = 'limit'), 0)::int8 as amount
      from unnest(${p.subscriptionIds as string[]}::text[]) as q(id)) w
    where s.id = w.id and s.limit_waiting <> w.amount`
}
