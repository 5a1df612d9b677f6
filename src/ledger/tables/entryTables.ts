import { sql } from 'drizzle-orm'
import {
  bigint,
  bigserial,
  date,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uuid,
} from 'drizzle-orm/pg-core'
import { micros, ts } from './columns.js'

/**
 * The append-only ledger: every movement of an org's money, with the balances after it.
 * Kinds (and the balance each moves): voucher_grant, usage_voucher, void_voucher,
 * adjustment_voucher (voucher); usage_billable, void_billable, adjustment_accrued (accrued);
 * charge_booked (accrued → booked); charge_collected (booked → collected); charge_failed
 * (none: still owed); write_off (booked → written off); refund (collected); prepaid_<source>
 * (a credit: prepaid_topup, prepaid_x402, prepaid_bonus...), usage_prepaid, void_prepaid (prepaid);
 * usage_included, void_included (the plan's included allowance, which entries carry no balance
 * of: `billing_accounts.included_used` counts it, docs/plans.md); usage_units, void_units (the
 * rate-card worth of units of an action the plan covered, no balance either: `usage.included_units`
 * and `billing_accounts.included_units_used` count them);
 * topup_booked, topup_collected, topup_written_off (none: a top-up's steps, its charge named —
 * the collection's prepaid_topup entry, right after topup_collected, is what credits it).
 */
export const ledgerEntries = pgTable(
  'ledger_entries',
  {
    id: bigserial('id', { mode: 'bigint' }).notNull(),
    orgId: uuid('org_id').notNull(),
    /** 1, 2, 3... per org: a gap or a repeat is visible. */
    seq: bigint('seq', { mode: 'bigint' }).notNull(),
    subscriptionId: text('subscription_id'),
    kind: text('kind').notNull(),
    /** Signed movement of the balance the kind moves. */
    amount: micros('amount').notNull(),
    voucherAfter: micros('voucher_after').notNull(),
    prepaidAfter: micros('prepaid_after').notNull().default(sql`0`),
    accruedAfter: micros('accrued_after').notNull(),
    bookedAfter: micros('booked_after').notNull(),
    collectedAfter: micros('collected_after').notNull(),
    usageId: bigint('usage_id', { mode: 'bigint' }),
    chargeId: bigint('charge_id', { mode: 'bigint' }),
    memo: text('memo'),
    createdAt: ts('created_at').notNull(),
  },
  // Partitioned by month of createdAt like usage; (orgId, seq) is unique within each partition
  // (an index per partition, made by tollgate_ensure_month_partition) and across them by the
  // account row's entry_seq, checked by reconcile (docs/operations.md#data-growth).
  (t) => [primaryKey({ name: 'ledger_entries_pkey', columns: [t.id, t.createdAt] })],
)

/**
 * What a detached month of `ledger_entries` held, per org and kind (`tollgate partitions detach`,
 * docs/operations.md#data-growth): reconcile adds it to the entries still attached.
 */
export const archivedLedgerTotals = pgTable(
  'archived_ledger_totals',
  {
    orgId: uuid('org_id').notNull(),
    /** The month's first day (UTC). */
    month: date('month', { mode: 'string' }).notNull(),
    kind: text('kind').notNull(),
    entries: bigint('entries', { mode: 'bigint' }).notNull(),
    amount: micros('amount').notNull(),
    maxSeq: bigint('max_seq', { mode: 'bigint' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.month, t.kind] })],
)

/** Each org's last entry of a detached month, its balances after (the org's last, if no later). */
export const archivedLastEntries = pgTable(
  'archived_last_entries',
  {
    orgId: uuid('org_id').notNull(),
    month: date('month', { mode: 'string' }).notNull(),
    seq: bigint('seq', { mode: 'bigint' }).notNull(),
    voucherAfter: micros('voucher_after').notNull(),
    prepaidAfter: micros('prepaid_after').notNull(),
    accruedAfter: micros('accrued_after').notNull(),
    bookedAfter: micros('booked_after').notNull(),
    collectedAfter: micros('collected_after').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.month] })],
)

/** What a detached month of `usage` held, per org and status: reconcile adds it to the rest. */
export const archivedUsageTotals = pgTable(
  'archived_usage_totals',
  {
    orgId: uuid('org_id').notNull(),
    month: date('month', { mode: 'string' }).notNull(),
    status: text('status').notNull(),
    rows: bigint('rows', { mode: 'bigint' }).notNull(),
    voucherAmount: micros('voucher_amount').notNull(),
    prepaidAmount: micros('prepaid_amount').notNull(),
    billableAmount: micros('billable_amount').notNull(),
    /** What the month's rows drew of the plan's included allowance (docs/plans.md). */
    includedAmount: micros('included_amount').notNull().default(sql`0`),
    /**
     * The plan's units the month's rows drew, per action (`{"search": 12}`, `{}`: none), so
     * reconcile proves `included_units_used` of a month since archived. Null: not kept (a month
     * detached before migration 0034 whose table was already dropped).
     */
    includedUnits: jsonb('included_units').$type<Record<string, number>>(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.month, t.status] })],
)
