import type { Db } from '../../db/client.js'

export type EnsureMonthPartitionsParameters = {
  /** Any instant in the first month to make sure of (UTC); default now. */
  from?: Date
  /** How many months from `from`'s: the current one and two ahead by default. */
  months?: number
}

/**
 * Creates the monthly partitions of `usage` and `ledger_entries` that do not exist yet, for
 * `months` months from `from`'s (docs/operations.md#data-growth). Rows the default partition
 * took for such a month move into it. Returns how many partitions it created; idempotent, and
 * safe from several workers at once (the database function takes an advisory lock).
 */
export async function ensureMonthPartitions(
  db: Db,
  p: EnsureMonthPartitionsParameters = {},
): Promise<number> {
  const from = (p.from ?? new Date()).toISOString().slice(0, 10)
  const [row] = await db.$client<{ created: number }[]>`
    select tollgate_ensure_month_partitions(${from}::date, ${p.months ?? 3}::int4) as created`
  return row!.created
}
