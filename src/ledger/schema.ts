import { sql } from 'drizzle-orm'
import {
  bigint,
  bigserial,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'

const micros = (name: string) => bigint(name, { mode: 'bigint' })
const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 6 })

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
 * The subscription row: the state machine's state and what the owner authorized. Only
 * `transitionSubscription` changes `state`.
 */
export const subscriptions = pgTable(
  'subscriptions',
  {
    /** 128 random bits as 32 hex characters; public in `/s/<id>`. */
    id: text('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    /** The paying wallet (set at authorization). */
    owner: text('owner'),
    state: text('state').notNull(),
    stateReason: text('state_reason'),
    stateChangedAt: ts('state_changed_at').notNull(),
    /** Token allowance left for the collector, as last authorized less what was collected. */
    allowance: micros('allowance').notNull().default(sql`0`),
    /** Collected from this subscription (the "drawn" of the Billing card). */
    drawn: micros('drawn').notNull().default(sql`0`),
    /** Optional monthly (per-window) limit; null = none. */
    monthlyLimit: micros('monthly_limit'),
    windowStart: ts('window_start'),
    windowSeconds: integer('window_seconds').notNull(),
    termsNonce: integer('terms_nonce').notNull().default(0),
    /** Last on-chain charge sequence number booked (the collector's `seq`). */
    lastSeq: integer('last_seq').notNull().default(0),
    /**
     * Charges the collector refused for the owner's per-window limit, still owed: they must be
     * collected under that limit in a later window, so the gate counts them against it.
     */
    limitWaiting: micros('limit_waiting').notNull().default(sql`0`),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('subscriptions_org_idx').on(t.orgId)],
)

/** Every state change, with what caused it: the audit trail of the state machine. */
export const subscriptionTransitions = pgTable(
  'subscription_transitions',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    subscriptionId: text('subscription_id').notNull(),
    fromState: text('from_state'),
    toState: text('to_state').notNull(),
    cause: text('cause').notNull(),
    actor: text('actor'),
    reason: text('reason'),
    at: ts('at').notNull().defaultNow(),
  },
  (t) => [index('subscription_transitions_sub_idx').on(t.subscriptionId, t.id)],
)

/**
 * Usage rows: one per metered action (recorded, reserved, committed or voided), priced by
 * the rate-card version it names. Never updated except a reservation's status. Partitioned
 * by month of `createdAt` (migration 0029, docs/operations.md#data-growth): the primary key
 * holds it; `id`, from one sequence, is unique on its own.
 */
export const usage = pgTable(
  'usage',
  {
    id: bigserial('id', { mode: 'bigint' }).notNull(),
    orgId: uuid('org_id').notNull(),
    subscriptionId: text('subscription_id').notNull(),
    action: text('action').notNull(),
    quantity: integer('quantity').notNull(),
    unitPrice: micros('unit_price').notNull(),
    /** What the action cost: voucherAmount + billableAmount (0 when recorded free). */
    voucherAmount: micros('voucher_amount').notNull(),
    /** The part the plan's included allowance paid (or holds). */
    includedAmount: micros('included_amount').notNull().default(sql`0`),
    /** The part the prepaid balance paid (or holds). */
    prepaidAmount: micros('prepaid_amount').notNull().default(sql`0`),
    billableAmount: micros('billable_amount').notNull(),
    rateVersion: text('rate_version').notNull(),
    windowIndex: integer('window_index'),
    /** recorded | reserved | committed | voided | expired */
    status: text('status').notNull(),
    /** Why an action was recorded at zero cost (wind_down, session_key_while_blocked). */
    freeReason: text('free_reason'),
    idempotencyKey: text('idempotency_key'),
    /**
     * The API key that metered the action (a session key's parent key); null for calls made
     * without one (a wallet session, a service metering for itself).
     */
    keyId: uuid('key_id'),
    expiresAt: ts('expires_at'),
    /** The charge this usage was booked into (set by settlement through the ledger). */
    chargeId: bigint('charge_id', { mode: 'bigint' }),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    primaryKey({ name: 'usage_pkey', columns: [t.id, t.createdAt] }),
    index('usage_org_idx').on(t.orgId, t.id),
    index('usage_reserved_idx').on(t.expiresAt).where(sql`status = 'reserved'`),
    // A charge's usage lines (statements); usage not yet booked is not in it.
    index('usage_charge_idx').on(t.chargeId).where(sql`charge_id is not null`),
  ],
)

/**
 * The usage rollup: per org, UTC day, action and API key, what was metered — kept current by
 * triggers on `usage` (migration 0018), one upsert per statement, so usage views never scan raw
 * usage. Counts only usage that stands (recorded or committed); a reservation counts once it is
 * committed, and a voided action leaves it. `keyId` is '' when the usage names no key.
 */
export const usageDaily = pgTable(
  'usage_daily',
  {
    orgId: uuid('org_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    action: text('action').notNull(),
    keyId: text('key_id').notNull().default(''),
    /** How many usage rows (metered calls). */
    calls: bigint('calls', { mode: 'bigint' }).notNull().default(sql`0`),
    quantity: bigint('quantity', { mode: 'bigint' }).notNull().default(sql`0`),
    voucherAmount: micros('voucher_amount').notNull().default(sql`0`),
    billableAmount: micros('billable_amount').notNull().default(sql`0`),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.day, t.action, t.keyId] })],
)

/**
 * The append-only ledger: every movement of an org's money, with the balances after it.
 * Kinds (and the balance each moves): voucher_grant, usage_voucher, void_voucher,
 * adjustment_voucher (voucher); usage_billable, void_billable, adjustment_accrued (accrued);
 * charge_booked (accrued → booked); charge_collected (booked → collected); charge_failed
 * (none: still owed); write_off (booked → written off); refund (collected); prepaid_<source>
 * (a credit: prepaid_topup, prepaid_x402, prepaid_bonus...), usage_prepaid, void_prepaid (prepaid);
 * usage_included, void_included (the plan's included allowance, which entries carry no balance
 * of: `billing_accounts.included_used` counts it, docs/plans.md);
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
  },
  (t) => [primaryKey({ columns: [t.orgId, t.month, t.status] })],
)

/** Permanent idempotency keys, unique per org: a retry returns the first outcome. */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    orgId: uuid('org_id').notNull(),
    key: text('key').notNull(),
    /** Hash of the request's parameters: the same key with other parameters is a conflict. */
    requestHash: text('request_hash').notNull(),
    /**
     * The first outcome, as answered — or null when `usageId`'s row holds all of it (a metered
     * action: its usage row never changes but for its status and charge). A reservation's
     * amounts change when it is committed, so its outcome is kept here.
     */
    outcome: jsonb('outcome'),
    /** The usage row the key recorded, if any. */
    usageId: bigint('usage_id', { mode: 'bigint' }),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.key] })],
)

/**
 * Charges: accrued usage booked for collection. Settlement drives them on-chain; the ledger
 * records each step's money movement. status: booked | submitted | collected | failed |
 * written_off.
 */
export const charges = pgTable(
  'charges',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    orgId: uuid('org_id').notNull(),
    subscriptionId: text('subscription_id').notNull(),
    /** The collector's per-subscription sequence number. */
    seq: integer('seq').notNull(),
    windowIndex: integer('window_index').notNull(),
    amount: micros('amount').notNull(),
    status: text('status').notNull(),
    failureReason: text('failure_reason'),
    txHash: text('tx_hash'),
    details: jsonb('details'),
    /**
     * `usage` — booked usage, owed; `topup` — a prepaid top-up the owner bought (or auto top-up
     * requested): pulled like a charge, credited to the prepaid balance when collected.
     */
    kind: text('kind').notNull().default('usage'),
    /** A requested top-up's idempotency key (per org); null for usage and auto top-ups. */
    idempotencyKey: text('idempotency_key'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('charges_sub_seq_idx').on(t.subscriptionId, t.seq),
    index('charges_status_idx').on(t.status),
    index('charges_org_idx').on(t.orgId, t.id),
    // At most one top-up open per org (booked, in flight, or failed and waiting for a retry):
    // a dip below the auto top-up threshold can never start two.
    uniqueIndex('charges_open_topup_idx')
      .on(t.orgId)
      .where(sql`kind = 'topup' and status in ('booked', 'submitted', 'failed')`),
    uniqueIndex('charges_topup_key_idx')
      .on(t.orgId, t.idempotencyKey)
      .where(sql`idempotency_key is not null`),
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

/**
 * Refunds an operator gave: of a charge (`charge_id`) or of usage lines (`usage_ids`), with a
 * reason, who gave it and a permanent idempotency key per org (a retry returns `outcome`, the
 * first answer). `netted` went against accrued usage and booked charges (the next pull is that
 * much smaller); `owed_onchain` is what is left to pay back from the payee wallet.
 */
export const refunds = pgTable(
  'refunds',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    orgId: uuid('org_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    requestHash: text('request_hash').notNull(),
    chargeId: bigint('charge_id', { mode: 'bigint' }),
    usageIds: bigint('usage_ids', { mode: 'bigint' }).array().notNull().default(sql`'{}'`),
    amount: micros('amount').notNull(),
    netted: micros('netted').notNull(),
    owedOnchain: micros('owed_onchain').notNull(),
    /** netted | owed_onchain */
    status: text('status').notNull(),
    reason: text('reason').notNull(),
    actor: text('actor').notNull(),
    outcome: jsonb('outcome').notNull(),
    /**
     * Paying back `owed_onchain` from the payee wallet (`tollgate refund --onchain`): null (not
     * asked), intent (recorded before sending), paid, failed (may be sent again).
     */
    payoutStatus: text('payout_status'),
    /** The owner's address it goes to, fixed with the intent. */
    payoutTo: text('payout_to'),
    payoutTxHash: text('payout_tx_hash'),
    /** The paid transfer's block, its time and its chain (the payment history's link). */
    payoutBlock: bigint('payout_block', { mode: 'bigint' }),
    payoutAt: ts('payout_at'),
    payoutChainId: integer('payout_chain_id'),
    payoutFailure: text('payout_failure'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('refunds_key_idx').on(t.orgId, t.idempotencyKey),
    index('refunds_charge_idx').on(t.chargeId),
  ],
)

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
