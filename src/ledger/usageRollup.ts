import type { Db } from '../db/client.js'

/** What was metered in one group of the rollup (micro-credits and counts). */
export type UsageTotals = {
  /** Metered calls (usage rows). */
  calls: bigint
  quantity: bigint
  voucher: bigint
  billable: bigint
}

export type UsageRollup = {
  byDay: Map<string, UsageTotals>
  byAction: Map<string, UsageTotals>
  /** By API key id ('' for usage that names no key). */
  byKey: Map<string, UsageTotals>
}

/**
 * An org's metered usage between two UTC days (inclusive, `YYYY-MM-DD`), by day, by action and
 * by API key — read from the rollup the database keeps as usage is written (`usage_daily`,
 * migration 0018), never from raw usage: one index range of at most days × actions × keys rows,
 * whatever the number of calls. Usage that stands only (recorded or committed).
 */
export async function readUsageRollup(
  db: Db,
  p: { orgId: string; from: string; to: string },
): Promise<UsageRollup> {
  const rows = await db.$client<
    {
      day: string | null
      action: string | null
      key_id: string | null
      calls: bigint
      quantity: bigint
      voucher: bigint
      billable: bigint
    }[]
  >`
    select to_char(day, 'YYYY-MM-DD') as day, action, key_id,
      sum(calls)::int8 as calls, sum(quantity)::int8 as quantity,
      sum(voucher_amount)::int8 as voucher, sum(billable_amount)::int8 as billable
    from usage_daily
    where org_id = ${p.orgId} and day between ${p.from}::date and ${p.to}::date
    group by grouping sets ((day), (action), (key_id))
    having sum(calls) <> 0`
  const out: UsageRollup = { byDay: new Map(), byAction: new Map(), byKey: new Map() }
  for (const r of rows) {
    const totals = {
      calls: BigInt(r.calls),
      quantity: BigInt(r.quantity),
      voucher: BigInt(r.voucher),
      billable: BigInt(r.billable),
    }
    if (r.day !== null) out.byDay.set(r.day, totals)
    else if (r.action !== null) out.byAction.set(r.action, totals)
    else if (r.key_id !== null) out.byKey.set(r.key_id, totals)
  }
  return out
}
