import type { Db } from '../db/client.js'
import { rfc3339 } from '../db/rfc3339.js'

/** A refund (credit note) as a statement lists it: what it refunds and where the money went. */
export type StatementRefund = {
  id: string
  /** RFC 3339: when it was given. */
  createdAt: string
  /** The charge it refunds (a charge's refund, or the charge of its usage lines). */
  chargeSeq: number | null
  usageLines: number
  amount: bigint
  /** Netted against booked charges (their pulls smaller), each named by seq. */
  netted: bigint
  nettedInto: { chargeSeq: number; amount: bigint }[]
  /** What could not be netted: paid back on-chain from the payee wallet. */
  owedOnchain: bigint
  /** null (not asked yet) | intent | paid | failed */
  payoutStatus: string | null
  payoutTxHash: string | null
  reason: string
}

/**
 * An org's refunds given in [from, to) (RFC 3339), oldest first, each with the charges it was
 * netted into (its `refund_booked` entries) and its on-chain payout: a statement's credit notes.
 */
export async function listStatementRefunds(
  db: Db,
  p: { orgId: string; from: string; to: string },
): Promise<StatementRefund[]> {
  const rows = await db.$client<
    {
      id: string
      created_at: string
      charge_seq: number | null
      usage_lines: number
      amount: bigint
      netted: bigint
      owed_onchain: bigint
      payout_status: string | null
      payout_tx_hash: string | null
      reason: string
      netted_into: { seq: number; amount: string }[]
    }[]
  >`
    select r.id::text, r.created_at, r.amount, r.netted, r.owed_onchain, r.payout_status,
      r.payout_tx_hash, r.reason, cardinality(r.usage_ids) as usage_lines,
      (select c.seq from charges c where c.id = coalesce(r.charge_id,
        (select u.charge_id from usage u where u.id = r.usage_ids[1]))) as charge_seq,
      coalesce((select jsonb_agg(jsonb_build_object('seq', c.seq, 'amount', (-e.amount)::text)
          order by c.seq)
        from charges c join ledger_entries e on e.charge_id = c.id
        where c.org_id = r.org_id and e.kind = 'refund_booked'
          and e.memo like 'refund ' || r.id || ' %'), '[]'::jsonb) as netted_into
    from refunds r
    where r.org_id = ${p.orgId} and r.created_at >= ${p.from}::timestamptz
      and r.created_at < ${p.to}::timestamptz
    order by r.created_at, r.id`
  return rows.map((r) => ({
    id: r.id,
    createdAt: rfc3339(r.created_at),
    chargeSeq: r.charge_seq,
    usageLines: Number(r.usage_lines),
    amount: BigInt(r.amount),
    netted: BigInt(r.netted),
    nettedInto: r.netted_into.map((n) => ({ chargeSeq: n.seq, amount: BigInt(n.amount) })),
    owedOnchain: BigInt(r.owed_onchain),
    payoutStatus: r.payout_status,
    payoutTxHash: r.payout_tx_hash,
    reason: r.reason,
  }))
}
