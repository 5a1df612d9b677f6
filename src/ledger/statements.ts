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
  /** `usage` (billed from usage lines) or `topup` (a prepaid purchase: no usage lines). */
  kind: 'usage' | 'topup'
  subscriptionId: string
  seq: number
  windowIndex: number
  /** What it was booked for (its `charge_booked` / `topup_booked` entry). */
  billed: bigint
  /** Taken off it by refunds netted into it (its `refund_booked` entries), as a positive amount. */
  netted: bigint
  /** What is pulled: billed − netted. */
  amount: bigint
  /** A top-up's credit to the prepaid balance (once collected); null for usage or until then. */
  prepaidCredited: bigint | null
  /** A package top-up's bonus credit (its `prepaid_bonus` line, once collected); else null. */
  bonusCredited: bigint | null
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
      kind: 'usage' | 'topup'
      subscription_id: string
      seq: number
      window_index: number
      amount: bigint
      billed: bigint | null
      netted: bigint
      credited: bigint | null
      bonus: bigint | null
      status: string
      failure_reason: string | null
      tx_hash: string | null
      created_at: string
      updated_at: string
    }[]
  >`
    select c.id::text, c.kind, c.subscription_id, c.seq, c.window_index, c.amount, c.status,
      c.failure_reason, c.tx_hash, c.created_at, c.updated_at,
      (select sum(e.amount) from ledger_entries e where e.charge_id = c.id
        and e.kind in ('charge_booked', 'topup_booked'))::int8 as billed,
      coalesce((select -sum(e.amount) from ledger_entries e where e.charge_id = c.id
        and e.kind = 'refund_booked'), 0)::int8 as netted,
      (select p.amount from prepaid_credits p
        where p.source = 'topup' and p.reference = 'charge:' || c.id) as credited,
      (select p.amount from prepaid_credits p
        where p.source = 'bonus' and p.reference = 'charge:' || c.id) as bonus
    from charges c
    where c.org_id = ${p.orgId} and c.created_at >= ${p.from}::timestamptz
      and c.created_at < ${p.to}::timestamptz
    order by c.created_at, c.id`
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    subscriptionId: r.subscription_id,
    seq: r.seq,
    windowIndex: r.window_index,
    // A charge without its booking entry (none is known) bills what it pulls.
    billed: BigInt(r.billed ?? BigInt(r.amount) + BigInt(r.netted)),
    netted: BigInt(r.netted),
    amount: BigInt(r.amount),
    prepaidCredited: r.credited === null ? null : BigInt(r.credited),
    bonusCredited: r.bonus === null ? null : BigInt(r.bonus),
    status: r.status,
    failureReason: r.failure_reason,
    txHash: r.tx_hash,
    bookedAt: rfc3339(r.created_at),
    updatedAt: rfc3339(r.updated_at),
  }))
}
