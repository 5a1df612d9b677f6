import type { Db } from '../db/client.js'
import { rfc3339 } from '../db/rfc3339.js'

/** A prepaid top-up: a charge of kind `topup`, pulled like one, credited when collected. */
export type TopUp = {
  id: string
  subscriptionId: string
  seq: number
  amount: bigint
  /** A package's bonus credit, credited beside `amount` when collected (docs/prepaid.md); else 0. */
  bonus: bigint
  /** booked → submitted → collected; failed (sent again when it can land) or written_off. */
  status: string
  /** Why the last pull failed (`balance`, `allowance`…), or why it was dropped. */
  failureReason: string | null
  txHash: string | null
  /** Booked by the auto top-up, not asked for. */
  auto: boolean
  idempotencyKey: string | null
  createdAt: string
  updatedAt: string
}

export type TopUpRow = {
  id: string
  subscription_id: string
  seq: number
  amount: bigint
  bonus: bigint
  status: string
  failure_reason: string | null
  tx_hash: string | null
  idempotency_key: string | null
  created_at: string | Date
  updated_at: string | Date
}

export const TOP_UP_COLUMNS =
  "id::text, subscription_id, seq, amount, coalesce((details->>'bonus_micros')::bigint, 0) as bonus, status, failure_reason, tx_hash, idempotency_key, created_at, updated_at"

export const toTopUp = (r: TopUpRow): TopUp => ({
  id: r.id,
  subscriptionId: r.subscription_id,
  seq: r.seq,
  amount: BigInt(r.amount),
  bonus: BigInt(r.bonus),
  status: r.status,
  failureReason: r.failure_reason,
  txHash: r.tx_hash,
  auto: r.idempotency_key === null,
  idempotencyKey: r.idempotency_key,
  createdAt: rfc3339(r.created_at),
  updatedAt: rfc3339(r.updated_at),
})

/**
 * An org's top-ups, newest first.
 *
 * @example
 * const [last] = await listTopUps(db, { orgId, limit: 1 })
 */
export async function listTopUps(db: Db, p: { orgId: string; limit?: number }): Promise<TopUp[]> {
  const rows = await db.$client<TopUpRow[]>`
    select ${db.$client.unsafe(TOP_UP_COLUMNS)} from charges
    where org_id = ${p.orgId} and kind = 'topup' order by id desc limit ${p.limit ?? 20}`
  return rows.map(toTopUp)
}
