import { sql } from 'drizzle-orm'
import {
  bigint,
  bigserial,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core'

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 6 })

/**
 * One row per batch of collections, written BEFORE the transaction is sent (intent), then
 * with its hash (sent), then its outcome. A worker that dies anywhere leaves a row that the
 * next run reconciles with the collector's per-subscription sequence numbers.
 */
export const settlementBatches = pgTable(
  'settlement_batches',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    chainId: integer('chain_id').notNull(),
    operator: text('operator').notNull(),
    /** intent | sent | confirmed | reconciled */
    status: text('status').notNull(),
    chargeIds: bigint('charge_ids', { mode: 'bigint' }).array().notNull(),
    txHash: text('tx_hash'),
    /** Every hash sent for this batch (replacements carry the same items). */
    txHashes: text('tx_hashes').array().notNull().default(sql`'{}'`),
    gasUsed: bigint('gas_used', { mode: 'bigint' }),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('settlement_batches_open_idx').on(t.status).where(sql`status in ('intent', 'sent')`),
  ],
)

/**
 * The on-chain payment history, mirrored from the collector's events: rebuildable from the
 * chain alone. Rows above a reorg are rolled back and re-indexed.
 */
export const paymentHistory = pgTable(
  'payment_history',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    chainId: integer('chain_id').notNull(),
    /**
     * Collected | ChargeFailed | Authorized (amount = allowance) | Canceled | Transfer (the
     * token's Transfer to the payee; subscription '' when no collection in its tx pairs with it)
     */
    event: text('event').notNull(),
    subscriptionId: text('subscription_id').notNull(),
    seq: integer('seq').notNull(),
    windowIndex: integer('window_index').notNull(),
    amount: bigint('amount', { mode: 'bigint' }).notNull(),
    totalCollected: bigint('total_collected', { mode: 'bigint' }),
    failureReason: text('failure_reason'),
    txHash: text('tx_hash').notNull(),
    blockNumber: bigint('block_number', { mode: 'bigint' }).notNull(),
    blockHash: text('block_hash').notNull(),
    logIndex: integer('log_index').notNull(),
    blockTime: ts('block_time'),
    explorerUrl: text('explorer_url'),
    /** Transfer rows: who paid (lower-case address). */
    payer: text('payer'),
  },
  (t) => [
    uniqueIndex('payment_history_log_idx').on(t.chainId, t.txHash, t.logIndex),
    index('payment_history_sub_idx').on(t.subscriptionId, t.seq),
    index('payment_history_block_idx').on(t.chainId, t.blockNumber),
  ],
)

/** How far the indexer has read each chain, with the hash of that block (to detect reorgs). */
export const chainCursors = pgTable('chain_cursors', {
  chainId: integer('chain_id').primaryKey(),
  blockNumber: bigint('block_number', { mode: 'bigint' }).notNull(),
  blockHash: text('block_hash').notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
})
