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
