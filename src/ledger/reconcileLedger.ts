import type { Db } from '../db/client.js'

/**
 * One difference reconcile found, naming the row: `table`, `id` and `field` hold the value
 * `actual` (the ledger's), where the chain — or the entries the row must equal — say `expected`.
 * `chainBehind` marks a difference that only a chain gone back can explain.
 */
export type LedgerMismatch = {
  orgId: string
  check: string
  expected: string
  actual: string
  table?: string
  id?: string
  field?: string
  chainBehind?: boolean
}

/**
 * Proves the cached balances equal the ledger: each balance re-derived from the entries (those
 * attached, plus the totals of months detached for archive: docs/operations.md#data-growth),
 * the entry sequence gap-free and without a repeat, the last entry's "after" balances equal to
 * the row, holds equal to the open reservations, the prepaid balance equal to its credits less the usage it paid,
 * and the ledger's invariant (docs/design.md, Money flow: Ledger)
 * Σ billable usage = accrued + booked + collected (gross) + written off (+ manual adjustments
 * and refunds netted against booked charges).
 * Returns every mismatch (empty = reconciled).
 */
export async function reconcileLedger(
  db: Db,
  p: { orgId?: string } = {},
): Promise<LedgerMismatch[]> {
  const rows = await db.$client.begin('isolation level repeatable read read only', (tx) => {
    // Each table is read for the one org asked about (or all): filtered where it is scanned,
    // so the plan never aggregates every org's rows to keep one, whatever the statistics say.
    const only = p.orgId === undefined ? tx`true` : tx`org_id = ${p.orgId}::uuid`
    return tx<Record<string, string | null>[]>`
    with ek as (
      -- Entries by org and kind: the attached partitions', and the totals of detached months.
      select org_id, kind, count(*)::int8 as n, sum(amount)::int8 as amount, max(seq) as max_seq
      from ledger_entries where ${only} group by org_id, kind
      union all
      select org_id, kind, entries, amount, max_seq from archived_ledger_totals where ${only}
    ),
    d as (
      -- Distinct seqs: counted over the attached partitions; a detached month's were unique in it.
      select org_id, sum(n)::int8 as n_distinct from (
        select org_id, count(distinct seq)::int8 as n from ledger_entries where ${only} group by org_id
        union all
        select org_id, entries from archived_ledger_totals where ${only}) as s
      group by org_id
    ),
    e as (
      select org_id,
        sum(n)::int8 as n, max(max_seq) as max_seq,
        coalesce(sum(amount) filter (where kind in ('voucher_grant','usage_voucher','void_voucher','adjustment_voucher')), 0)::int8 as voucher,
        coalesce(sum(amount) filter (where kind in ('usage_billable','void_billable','adjustment_accrued')), 0)::int8
          - coalesce(sum(amount) filter (where kind = 'charge_booked'), 0)::int8 as accrued,
        coalesce(sum(amount) filter (where kind in ('charge_booked','refund_booked')), 0)::int8
          - coalesce(sum(amount) filter (where kind in ('charge_collected','write_off')), 0)::int8 as booked,
        coalesce(sum(amount) filter (where kind = 'charge_collected'), 0)::int8
          - coalesce(sum(amount) filter (where kind = 'refund'), 0)::int8 as collected,
        coalesce(sum(amount) filter (where kind = 'charge_collected'), 0)::int8 as collected_gross,
        coalesce(sum(amount) filter (where kind = 'write_off'), 0)::int8 as written_off,
        coalesce(sum(amount) filter (where kind in ('adjustment_accrued','refund_booked')), 0)::int8 as adj_accrued,
        coalesce(sum(amount) filter (where kind like 'prepaid\_%' or kind in ('usage_prepaid','void_prepaid')), 0)::int8 as prepaid,
        coalesce(sum(amount) filter (where kind like 'prepaid\_%'), 0)::int8 as prepaid_credited
      from ek group by org_id
    ),
    last as (
      select distinct on (org_id) org_id, voucher_after, prepaid_after, accrued_after, booked_after, collected_after
      from (
        select org_id, seq, voucher_after, prepaid_after, accrued_after, booked_after, collected_after
        from ledger_entries where ${only}
        union all
        select org_id, seq, voucher_after, prepaid_after, accrued_after, booked_after, collected_after
        from archived_last_entries where ${only}) as l
      order by org_id, seq desc
    ),
    us as (
      select org_id, status, sum(voucher_amount)::int8 as voucher_amount,
        sum(prepaid_amount)::int8 as prepaid_amount, sum(billable_amount)::int8 as billable_amount
      from usage where ${only} group by org_id, status
      union all
      select org_id, status, voucher_amount, prepaid_amount, billable_amount from archived_usage_totals where ${only}
    ),
    u as (
      select org_id,
        coalesce(sum(billable_amount) filter (where status in ('recorded','committed')), 0)::int8 as billable,
        coalesce(sum(billable_amount) filter (where status = 'reserved'), 0)::int8 as held,
        coalesce(sum(voucher_amount) filter (where status = 'reserved'), 0)::int8 as held_voucher,
        coalesce(sum(prepaid_amount) filter (where status in ('recorded','committed')), 0)::int8 as prepaid_used,
        coalesce(sum(prepaid_amount) filter (where status = 'reserved'), 0)::int8 as held_prepaid
      from us group by org_id
    ),
    pc as (
      select org_id, sum(amount)::int8 as credited from prepaid_credits where ${only} group by org_id
    ),
    c as (
      select org_id, coalesce(sum(amount) filter (where status in ('booked','submitted','failed')), 0)::int8 as open
      from charges where kind = 'usage' and ${only} group by org_id
    )
    select a.org_id::text, a.voucher::text, a.accrued::text, a.booked::text, a.collected::text, a.written_off::text,
      a.reserved::text, a.reserved_voucher::text, a.entry_seq::text,
      e.n::text, d.n_distinct::text, e.max_seq::text, e.voucher::text as e_voucher, e.accrued::text as e_accrued, e.booked::text as e_booked,
      e.collected::text as e_collected, e.collected_gross::text, e.written_off::text as e_written_off, e.adj_accrued::text,
      last.voucher_after::text, last.accrued_after::text, last.booked_after::text, last.collected_after::text,
      coalesce(u.billable, 0)::text as u_billable, coalesce(u.held, 0)::text as u_held,
      coalesce(u.held_voucher, 0)::text as u_held_voucher, coalesce(c.open, 0)::text as c_open,
      a.prepaid::text, a.reserved_prepaid::text, e.prepaid::text as e_prepaid,
      e.prepaid_credited::text as e_prepaid_credited, last.prepaid_after::text,
      coalesce(u.prepaid_used, 0)::text as u_prepaid_used, coalesce(u.held_prepaid, 0)::text as u_held_prepaid,
      coalesce(pc.credited, 0)::text as pc_credited,
      a.included_used::text,
      ((select coalesce(sum(x.included_amount), 0) from usage x
        where x.org_id = a.org_id and x.status in ('recorded','reserved','committed')
          and x.created_at >= a.included_window_start
          and x.created_at < (a.included_window_start at time zone 'UTC' + interval '1 month') at time zone 'UTC')
       -- The counted month may be detached (an org idle since): its archived totals hold it.
       + (select coalesce(sum(t.included_amount), 0) from archived_usage_totals t
        where t.org_id = a.org_id and t.status in ('recorded','reserved','committed')
          and t.month = (a.included_window_start at time zone 'UTC')::date)
      )::text as u_included_month,
      (select count(*) from usage x
        where x.org_id = a.org_id and x.status in ('recorded','reserved','committed')
          and (x.included_amount > 0 or x.included_units > 0)
          and (a.included_window_start is null
            or x.created_at >= (a.included_window_start at time zone 'UTC' + interval '1 month') at time zone 'UTC')
      )::text as u_included_later,
      (select jsonb_object_agg(k, v) from jsonb_each(a.included_units_used) as j(k, v) where v <> '0')::text
        as included_units_used,
      (select jsonb_object_agg(action, n) from (
        select action, sum(n)::int8 as n from (
          select x.action, x.included_units::int8 as n from usage x
          where x.org_id = a.org_id and x.status in ('recorded','reserved','committed')
            and x.included_units > 0
            and x.created_at >= a.included_window_start
            and x.created_at < (a.included_window_start at time zone 'UTC' + interval '1 month') at time zone 'UTC'
          union all
          -- The counted month may be detached: its archived units per action hold it.
          select j.key, j.value::int8 from archived_usage_totals t,
            jsonb_each_text(t.included_units) as j(key, value)
          where t.org_id = a.org_id and t.status in ('recorded','reserved','committed')
            and t.month = (a.included_window_start at time zone 'UTC')::date) as z
        group by action having sum(n) > 0) as xu
      )::text as u_units_month,
      -- A month detached before its units were kept (migration 0034) and since dropped cannot
      -- be proven per action (docs/plans.md).
      exists (select from archived_usage_totals t where t.org_id = a.org_id
        and t.month = (a.included_window_start at time zone 'UTC')::date
        and t.included_units is null) as units_unknown
    from billing_accounts a
    left join e on e.org_id = a.org_id
    left join d on d.org_id = a.org_id
    left join last on last.org_id = a.org_id
    left join u on u.org_id = a.org_id
    left join c on c.org_id = a.org_id
    left join pc on pc.org_id = a.org_id
    where ${p.orgId ?? null}::uuid is null or a.org_id = ${p.orgId ?? null}::uuid`
  })
  const out: LedgerMismatch[] = []
  for (const r of rows) {
    const orgId = r.org_id!
    const check = (
      name: string,
      expected: string | null,
      actual: string | null,
      field = name.split(' ')[0]!,
    ) => {
      if ((expected ?? '0') !== (actual ?? '0'))
        out.push({
          orgId,
          check: name,
          expected: expected ?? '0',
          actual: actual ?? '0',
          table: 'billing_accounts',
          id: orgId,
          field,
        })
    }
    check('voucher = Σ voucher entries', r.e_voucher!, r.voucher!)
    check('accrued = Σ accrued entries', r.e_accrued!, r.accrued!)
    check('booked = Σ booking entries', r.e_booked!, r.booked!)
    check('collected = Σ collection entries', r.e_collected!, r.collected!)
    check('written off = Σ write-off entries', r.e_written_off!, r.written_off!, 'written_off')
    // Each month's partition has a unique index on (org_id, seq); this is the check across them.
    check('entry seq unique', r.n!, r.n_distinct!, 'entry_seq')
    check('entry seq gap-free', r.n!, r.max_seq!, 'entry_seq')
    check('entry seq = account', r.entry_seq!, r.max_seq!, 'entry_seq')
    check('last entry voucher after', r.voucher!, r.voucher_after!, 'voucher')
    check('last entry accrued after', r.accrued!, r.accrued_after!, 'accrued')
    check('last entry booked after', r.booked!, r.booked_after!, 'booked')
    check('last entry collected after', r.collected!, r.collected_after!, 'collected')
    check('reserved = open reservations', r.u_held!, r.reserved!)
    check(
      'reserved voucher = open reservations',
      r.u_held_voucher!,
      r.reserved_voucher!,
      'reserved_voucher',
    )
    check('booked = open charges', r.c_open!, r.booked!)
    check('prepaid = Σ prepaid entries', r.e_prepaid!, r.prepaid!)
    check('last entry prepaid after', r.prepaid!, r.prepaid_after!, 'prepaid')
    check(
      'reserved prepaid = open reservations',
      r.u_held_prepaid!,
      r.reserved_prepaid!,
      'reserved_prepaid',
    )
    check('Σ prepaid credits = Σ credit entries', r.pc_credited!, r.e_prepaid_credited!, 'prepaid')
    check(
      'Σ prepaid usage = credited − prepaid',
      r.u_prepaid_used!,
      (BigInt(r.e_prepaid_credited ?? '0') - BigInt(r.prepaid!)).toString(),
      'prepaid',
    )
    // The plan's allowance (docs/plans.md): the month's counter is what the month's usage
    // (holds included) drew — attached, or archived when that month was detached.
    check(
      'included used = its month’s usage',
      r.u_included_month!,
      r.included_used!,
      'included_used',
    )
    // Each draw moves the counted month to its own, so none may stand after it: else the
    // check above would compare a stale month's counter with its own rows and miss the rest.
    check('included month = its latest usage', '0', r.u_included_later!, 'included_window_start')
    // And each action's units drawn this month are what the month's usage of it drew.
    const unitsUsed = unitCounts(r.included_units_used)
    const unitsDrawn = unitCounts(r.u_units_month)
    const actions = r.units_unknown ? [] : [...Object.keys(unitsUsed), ...Object.keys(unitsDrawn)]
    for (const action of new Set(actions))
      check(
        `included units used = its month’s usage (${action})`,
        String(unitsDrawn[action] ?? 0),
        String(unitsUsed[action] ?? 0),
        `included_units_used.${action}`,
      )
    const derived =
      BigInt(r.accrued!) +
      BigInt(r.booked!) +
      BigInt(r.collected_gross!) +
      BigInt(r.written_off!) -
      BigInt(r.adj_accrued!)
    check(
      'Σ billable usage = accrued + booked + collected + written off',
      r.u_billable!,
      derived.toString(),
      'accrued + booked + collected + written_off',
    )
  }
  return out
}

/** A jsonb object of units per action, as text (null: none). */
const unitCounts = (json: string | null | undefined): Record<string, number> =>
  json ? (JSON.parse(json) as Record<string, number>) : {}
