import { ValidationError } from '../../core/errors.js'
import type { Db } from '../../db/client.js'
import { MonthNotSettledError } from '../errors.js'

export type DetachMonthsBeforeParameters = {
  /** `YYYY-MM`: every month before it is detached; at most the current month. */
  before: string
  /** Which month is current (UTC); default now. */
  now?: Date
}

/** One month taken out: the tables now standing alone, for the operator to dump and drop. */
export type DetachedMonth = {
  month: string
  tables: string[]
  usageRows: bigint
  ledgerRows: bigint
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/
const PARTITION = /^(?:usage|ledger_entries)_y(\d{4})m(\d{2})$/

/**
 * Detaches the monthly partitions of `usage` and `ledger_entries` older than `before`, oldest
 * first, one month a transaction (docs/operations.md#data-growth). A month is detached only when
 * its usage is settled — none reserved, all billable usage booked, every charge it was booked
 * into collected or written off — else MonthNotSettledError, and that month and the later ones
 * stay. What each month held is kept per org (`archived_*` tables) so reconcile still adds up;
 * `usage_daily` keeps its rollup. Each month holds both parents' exclusive lock while it is
 * summed and detached: metering waits that long (about a second per million rows).
 */
export async function detachMonthsBefore(
  db: Db,
  p: DetachMonthsBeforeParameters,
): Promise<DetachedMonth[]> {
  if (!MONTH.test(p.before))
    throw new ValidationError('the month to detach before is YYYY-MM', { before: p.before })
  const current = (p.now ?? new Date()).toISOString().slice(0, 7)
  if (p.before > current)
    throw new ValidationError('only months before the current one can be detached', {
      before: p.before,
      current,
    })
  const children = await db.$client<{ name: string }[]>`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent in ('usage'::regclass, 'ledger_entries'::regclass)`
  const months = [
    ...new Set(
      children.flatMap(({ name }) => {
        const m = PARTITION.exec(name)
        return m ? [`${m[1]}-${m[2]}`] : []
      }),
    ),
  ]
    .filter((m) => m < p.before)
    .sort()
  const detached: DetachedMonth[] = []
  for (const month of months) detached.push(await detachMonth(db, month))
  return detached
}

async function detachMonth(db: Db, month: string): Promise<DetachedMonth> {
  const suffix = `_y${month.slice(0, 4)}m${month.slice(5, 7)}`
  const first = `${month}-01`
  return await db.$client.begin(async (tx) => {
    await tx`set local lock_timeout = '5s'`
    await tx`lock table usage, ledger_entries in access exclusive mode`
    const attached = async (parent: string) => {
      const [row] = await tx<{ attached: boolean }[]>`
        select exists (select from pg_inherits i join pg_class c on c.oid = i.inhrelid
          where i.inhparent = ${parent}::regclass and c.relname = ${parent + suffix}) as attached`
      return row!.attached
    }
    const out: DetachedMonth = { month, tables: [], usageRows: 0n, ledgerRows: 0n }
    if (await attached('usage')) {
      const usage = tx(`usage${suffix}`)
      const [open] = await tx<{ reserved: bigint; unbooked: bigint; open_charges: bigint }[]>`
        select
          (select count(*) from ${usage} where status = 'reserved') as reserved,
          (select count(*) from ${usage} where status in ('recorded', 'committed')
             and billable_amount > 0 and charge_id is null) as unbooked,
          (select count(*) from charges where status not in ('collected', 'written_off')
             and id in (select charge_id from ${usage} where charge_id is not null)) as open_charges`
      if (open!.reserved + open!.unbooked + open!.open_charges > 0n)
        throw new MonthNotSettledError(month, {
          reserved: open!.reserved.toString(),
          unbooked: open!.unbooked.toString(),
          open_charges: open!.open_charges.toString(),
        })
      // The units per action too (`{}`: none), so reconcile proves an archived month's counters.
      await tx`
        insert into archived_usage_totals (org_id, month, status, rows, voucher_amount, prepaid_amount,
          billable_amount, included_amount, included_units)
        select s.org_id, ${first}::date, s.status, s.rows, s.voucher, s.prepaid, s.billable,
          s.included, coalesce(n.units, '{}'::jsonb)
        from (select org_id, status, count(*) as rows, sum(voucher_amount) as voucher,
            sum(prepaid_amount) as prepaid, sum(billable_amount) as billable,
            sum(included_amount) as included
          from ${usage} group by org_id, status) as s
        left join (select org_id, status, jsonb_object_agg(action, units) as units
          from (select org_id, status, action, sum(included_units)::int8 as units from ${usage}
            where included_units > 0 group by org_id, status, action) as g
          group by org_id, status) as n on n.org_id = s.org_id and n.status = s.status`
      const [n] = await tx<{ n: bigint }[]>`select count(*) as n from ${usage}`
      await tx`alter table usage detach partition ${usage}`
      out.tables.push(`usage${suffix}`)
      out.usageRows = n!.n
    }
    if (await attached('ledger_entries')) {
      const entries = tx(`ledger_entries${suffix}`)
      await tx`
        insert into archived_ledger_totals (org_id, month, kind, entries, amount, max_seq)
        select org_id, ${first}::date, kind, count(*), sum(amount), max(seq)
        from ${entries} group by org_id, kind`
      await tx`
        insert into archived_last_entries (org_id, month, seq, voucher_after, prepaid_after,
          accrued_after, booked_after, collected_after)
        select distinct on (org_id) org_id, ${first}::date, seq, voucher_after, prepaid_after,
          accrued_after, booked_after, collected_after
        from ${entries} order by org_id, seq desc`
      const [n] = await tx<{ n: bigint }[]>`select count(*) as n from ${entries}`
      await tx`alter table ledger_entries detach partition ${entries}`
      out.tables.push(`ledger_entries${suffix}`)
      out.ledgerRows = n!.n
    }
    return out
  })
}
