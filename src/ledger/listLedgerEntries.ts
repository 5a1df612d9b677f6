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
  /** The window length of the subscription the entry's charge belongs to (null without one). */
  windowSeconds: number | null
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
    select e.id, e.seq, e.kind, e.amount, e.voucher_after, e.prepaid_after, e.accrued_after,
      e.booked_after, e.collected_after, e.usage_id, e.charge_id, e.memo, e.created_at,
      (select s.window_seconds from charges c join subscriptions s on s.id = c.subscription_id
        where c.id = e.charge_id) as window_seconds
    from ledger_entries e
    where e.org_id = ${p.orgId}
      and (${p.beforeSeq?.toString() ?? null}::int8 is null or e.seq < ${p.beforeSeq?.toString() ?? null}::int8)
      and (${p.kinds ?? null}::text[] is null or e.kind = any(${p.kinds ?? null}::text[]))
      and (${p.since ?? null}::timestamptz is null or e.created_at >= ${p.since ?? null}::timestamptz)
      and (${p.until ?? null}::timestamptz is null or e.created_at < ${p.until ?? null}::timestamptz)
    order by e.seq desc
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
    windowSeconds: r.window_seconds === null ? null : Number(r.window_seconds),
    createdAt: r.created_at as Date,
  }))
}
