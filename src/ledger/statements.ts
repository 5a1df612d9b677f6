import type { Db } from '../db/client.js'
import { rfc3339 } from '../db/rfc3339.js'

/** One line of a charge: the usage of one action it was booked from. */
export type ChargeLine = { action: string; calls: bigint; quantity: bigint; billable: bigint }

/**
 * The usage lines of charges: for each charge id, what it was booked from, by action (calls,
 * quantity and billable micro-credits). A statement's detail, read per charge (a charge is at
 * most a billing threshold's worth of usage), through the usage's charge index.
 */
export async function readChargeLines(
  db: Db,
  chargeIds: string[],
): Promise<Map<string, ChargeLine[]>> {
  const out = new Map<string, ChargeLine[]>()
  if (chargeIds.length === 0) return out
  const rows = await db.$client<
    { charge_id: string; action: string; calls: bigint; quantity: bigint; billable: bigint }[]
  >`
    select charge_id::text, action, count(*)::int8 as calls, sum(quantity)::int8 as quantity,
      sum(billable_amount)::int8 as billable
    from usage where charge_id = any(${chargeIds}::int8[])
    group by charge_id, action order by charge_id, action`
  for (const r of rows) {
    const id = r.charge_id
    if (!out.has(id)) out.set(id, [])
    out.get(id)!.push({
      action: r.action,
      calls: BigInt(r.calls),
      quantity: BigInt(r.quantity),
      billable: BigInt(r.billable),
    })
  }
  return out
}

/** A charge as a statement lists it: when it was booked, its window, status and transaction. */
export type StatementCharge = {
  id: string
  subscriptionId: string
  seq: number
  windowIndex: number
  amount: bigint
  status: string
  failureReason: string | null
  txHash: string | null
  /** RFC 3339. */
  bookedAt: string
  /** When its status last changed (collected, failed...), RFC 3339. */
  updatedAt: string
}

/** An org's charges booked in [from, to) (RFC 3339), oldest first: one month's statement. */
export async function listStatementCharges(
  db: Db,
  p: { orgId: string; from: string; to: string },
): Promise<StatementCharge[]> {
  const rows = await db.$client<
    {
      id: string
      subscription_id: string
      seq: number
      window_index: number
      amount: bigint
      status: string
      failure_reason: string | null
      tx_hash: string | null
      created_at: string
      updated_at: string
    }[]
  >`
    select id::text, subscription_id, seq, window_index, amount, status, failure_reason, tx_hash,
      created_at, updated_at
    from charges
    where org_id = ${p.orgId} and created_at >= ${p.from}::timestamptz and created_at < ${p.to}::timestamptz
    order by created_at, id`
  return rows.map((r) => ({
    id: r.id,
    subscriptionId: r.subscription_id,
    seq: r.seq,
    windowIndex: r.window_index,
    amount: BigInt(r.amount),
    status: r.status,
    failureReason: r.failure_reason,
    txHash: r.tx_hash,
    bookedAt: rfc3339(r.created_at),
    updatedAt: rfc3339(r.updated_at),
  }))
}
