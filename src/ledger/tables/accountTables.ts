import { sql } from 'drizzle-orm'
import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'
import { micros, ts } from './columns.js'

/**
 * One row per org: the lock every metering batch takes (in org id order) and the cached
 * balances, each proven equal to the ledger entries by `reconcileLedger`.
 */
export const billingAccounts = pgTable('billing_accounts', {
  orgId: uuid('org_id').primaryKey(),
  /** The org's current subscription (a new one after a cancel). */
  subscriptionId: text('subscription_id').notNull(),
  /** Signup credit left: a voucher, never billed, never redeemable. */
  voucher: micros('voucher').notNull(),
  /** When the org's credit (voucher and prepaid balance) ran out: pending and prepaid orgs are blocked from then on. */
  voucherExhaustedAt: ts('voucher_exhausted_at'),
  /**
   * How the org pays: `postpaid` (usage accrues and is pulled after) or `prepaid` (usage draws
   * a balance paid before; nothing is billable). Chosen by the owner; postpaid by default.
   */
  billingMode: text('billing_mode').notNull().default('postpaid'),
  /**
   * Prepaid balance: credited by top-up pulls, x402 payments and bonuses (`creditPrepaid`), drawn
   * by usage after the voucher — in either mode, whatever the subscription's state (it is paid).
   */
  prepaid: micros('prepaid').notNull().default(sql`0`),
  /** Prepaid balance held by open reservations. */
  reservedPrepaid: micros('reserved_prepaid').notNull().default(sql`0`),
  /**
   * The plan's included allowance: micro-credits a UTC calendar month that usage draws after the
   * voucher, before the prepaid balance or anything billable (null: no plan). Set by an operator
   * (`setPlan`); `includedUsed` is what usage (holds included) drew of it in the month starting at
   * `includedWindowStart` — a later month starts from 0 on its first use (docs/plans.md).
   */
  includedMonthly: micros('included_monthly'),
  includedWindowStart: ts('included_window_start'),
  includedUsed: micros('included_used').notNull().default(sql`0`),
  /**
   * The plan's units of named rate-card actions each UTC calendar month (`{"search": 1000}`),
   * drawn before any credit by that action only (null: none); `includedUnitsUsed` is what usage
   * (holds included) drew of each in the month starting at `includedWindowStart` (docs/plans.md).
   */
  includedUnits: jsonb('included_units').$type<Record<string, number>>(),
  includedUnitsUsed: jsonb('included_units_used').$type<Record<string, number>>(),
  /** Billable usage not yet booked into a charge. */
  accrued: micros('accrued').notNull().default(sql`0`),
  /** Held by open reservations (billable part), released by commit, void or expiry. */
  reserved: micros('reserved').notNull().default(sql`0`),
  /** Voucher held by open reservations. */
  reservedVoucher: micros('reserved_voucher').notNull().default(sql`0`),
  /** Charges booked (or submitted) and not yet collected. */
  booked: micros('booked').notNull().default(sql`0`),
  /** Lifetime collected on-chain, less refunds. */
  collected: micros('collected').notNull().default(sql`0`),
  writtenOff: micros('written_off').notNull().default(sql`0`),
  /** Sequence of this org's last ledger entry. */
  entrySeq: bigint('entry_seq', { mode: 'bigint' }).notNull().default(sql`0`),
  /** When the oldest unbooked usage was recorded (settlement's max-age trigger). */
  accruedSince: ts('accrued_since'),
  /**
   * Billable usage recorded in window `spendWindow` of the current subscription (voucher-covered
   * usage never counts): the monthly limit's meter. Kept on this row, which every metering
   * batch updates anyway, so a batch writes one row per org.
   */
  spendWindow: integer('spend_window').notNull().default(0),
  spendWindowSpent: micros('spend_window_spent').notNull().default(sql`0`),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
})

/**
 * Every credit of a prepaid balance, once per (`source`, `reference`) — a top-up's id, an x402
 * authorization's nonce, a package's bonus — so crediting again moves nothing and returns this
 * row. The ledger entry it made is `(org_id, entry_seq)`.
 */
export const prepaidCredits = pgTable(
  'prepaid_credits',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    orgId: uuid('org_id').notNull(),
    /** topup | x402 | bonus | operator */
    source: text('source').notNull(),
    reference: text('reference').notNull(),
    amount: micros('amount').notNull(),
    balanceAfter: micros('balance_after').notNull(),
    entrySeq: bigint('entry_seq', { mode: 'bigint' }).notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('prepaid_credits_source_ref_idx').on(t.source, t.reference),
    index('prepaid_credits_org_idx').on(t.orgId, t.id),
  ],
)

/**
 * An org's auto top-up: when its prepaid balance (what reservations leave) falls below
 * `threshold`, settlement books a top-up of `amount`, pulled through the collector.
 */
export const autoTopUps = pgTable('auto_top_ups', {
  orgId: uuid('org_id').primaryKey(),
  threshold: micros('threshold').notNull(),
  amount: micros('amount').notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  /** Who set it last (a wallet address, or `cli`). */
  updatedBy: text('updated_by'),
})

/**
 * Spend budgets an org's owner or admins set on one API key (`key_id`) or on the whole org
 * (`key_id` null), per UTC calendar day, ISO week or month: the price of metered actions
 * counted in the current window (`spent`, written by the meter in the batch that records the
 * usage, under the org's lock), capped at `limit_micros` — or at `override_micros` until
 * `override_until`, after which the limit is back by itself. One per scope and period.
 */
export const budgets = pgTable(
  'budgets',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    orgId: uuid('org_id').notNull(),
    keyId: uuid('key_id'),
    /** day | week | month */
    period: text('period').notNull(),
    limitMicros: micros('limit_micros').notNull(),
    overrideMicros: micros('override_micros'),
    overrideUntil: ts('override_until'),
    /** The window `spent` counts in (UTC): a later window starts from 0. */
    windowStart: ts('window_start').notNull(),
    spent: micros('spent').notNull().default(sql`0`),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    /** Who set it last (a wallet address, or `cli`). */
    updatedBy: text('updated_by'),
  },
  (t) => [
    uniqueIndex('budgets_scope_idx').on(
      t.orgId,
      sql`coalesce(${t.keyId}, '00000000-0000-0000-0000-000000000000'::uuid)`,
      t.period,
    ),
  ],
)
