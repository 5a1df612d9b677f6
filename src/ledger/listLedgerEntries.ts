import type { Db } from '../db/client.js'

/** One ledger line as the API and the CLI show it. */
export type LedgerLine = {
  id: string
  seq: string
  kind: string
  amount: bigint
  voucherAfter: bigint
  prepaidAfter: bigint
  accruedAfter: bigint
  bookedAfter: bigint
  collectedAfter: bigint
  usageId: string | null
  chargeId: string | null
  memo: string | null
  createdAt: Date
}

export type ListLedgerEntriesParameters = {
  orgId: string
  /** Entries with seq below this (cursor for the next page). */
  beforeSeq?: bigint
  limit?: number
  kinds?: string[]
  since?: Date
  until?: Date
}

/** An org's ledger lines, newest first, cursor-paginated by `seq`. */
export async function listLedgerEntries(
  db: Db,
  p: ListLedgerEntriesParameters,
): Promise<LedgerLine[]> {
  const rows = await db.$client<Record<string, unknown>[]>`
    select id, seq, kind, amount, voucher_after, prepaid_after, accrued_after, booked_after, collected_after,
      usage_id, charge_id, memo, created_at
    from ledger_entries
    where org_id = ${p.orgId}
      and (${p.beforeSeq?.toString() ?? null}::int8 is null or seq < ${p.beforeSeq?.toString() ?? null}::int8)
      and (${p.kinds ?? null}::text[] is null or kind = any(${p.kinds ?? null}::text[]))
      and (${p.since ?? null}::timestamptz is null or created_at >= ${p.since ?? null}::timestamptz)
      and (${p.until ?? null}::timestamptz is null or created_at < ${p.until ?? null}::timestamptz)
    order by seq desc
    limit ${Math.min(p.limit ?? 50, 500)}`
  return rows.map((r) => ({
    id: String(r.id),
    seq: String(r.seq),
    kind: r.kind as string,
    amount: r.amount as bigint,
    voucherAfter: r.voucher_after as bigint,
    prepaidAfter: r.prepaid_after as bigint,
    accruedAfter: r.accrued_after as bigint,
    bookedAfter: r.booked_after as bigint,
    collectedAfter: r.collected_after as bigint,
    usageId: r.usage_id === null ? null : String(r.usage_id),
    chargeId: r.charge_id === null ? null : String(r.charge_id),
    memo: r.memo as string | null,
    createdAt: r.created_at as Date,
  }))
}
