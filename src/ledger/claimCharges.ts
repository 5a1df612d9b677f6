import type { Sql } from './sql.js'

/** A charge claimed for a batch: what the collector's `collectBatch` item needs. */
export type ClaimedCharge = {
  id: bigint
  org_id: string
  subscription_id: string
  seq: number
  window_index: number
  amount: bigint
}

export type ClaimChargesParameters = {
  /** Most charges to claim. */
  limit: number
  /** Failure reasons a later pull can clear: such charges are claimed again. */
  retryable: readonly string[]
  /** Failed charges to claim whatever their reason (they fit now). */
  alsoIds: readonly string[]
  /** Charges this pass already sent: never claimed twice in one pass. */
  sent: readonly string[]
}

/**
 * Claims sendable charges of active subscriptions — booked, failed for a retryable reason, or
 * named in `alsoIds` — in seq order, skipping rows another worker locked: each goes `submitted`
 * (its old transaction hash cleared). A charge waits while an earlier one of its subscription is
 * in flight or failed for a reason a retry cannot clear. Run it in the transaction that records
 * the batch's intent.
 *
 * @example
 * const charges = await claimCharges(tx, { limit: 100, retryable, alsoIds: [], sent: [] })
 */
export async function claimCharges(sql: Sql, p: ClaimChargesParameters): Promise<ClaimedCharge[]> {
  return await sql<ClaimedCharge[]>`
    with picked as (
      select c.id from charges c join subscriptions s on s.id = c.subscription_id
      where s.state = 'active'
        and (c.status = 'booked'
             or (c.status = 'failed' and c.failure_reason = any(${p.retryable as string[]}::text[]))
             or (c.status = 'failed' and c.id = any(${p.alsoIds as string[]}::int8[])))
        and c.id <> all(${p.sent as string[]}::int8[])
        and not exists (
          select 1 from charges e
          where e.subscription_id = c.subscription_id and e.seq < c.seq
            and (e.status = 'submitted' or (e.status = 'failed' and e.failure_reason <> all(${p.retryable as string[]}::text[]))))
      order by c.subscription_id, c.seq
      for update of c skip locked
      limit ${p.limit})
    update charges c set status = 'submitted', tx_hash = null, updated_at = clock_timestamp()
    from picked where c.id = picked.id
    returning c.id, c.org_id, c.subscription_id, c.seq, c.window_index, c.amount`
}
