import { sql } from 'drizzle-orm'
import {
  bigint,
  bigserial,
  index,
  integer,
  pgTable,
  primaryKey,
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

/**
 * The operator wallet's nonce counter per (chain, operator address) — src/chain/operatorWallet.ts.
 * Reconciled with the chain's pending nonce on start; taken under a row lock.
 */
export const operatorNonces = pgTable(
  'operator_nonces',
  {
    chainId: integer('chain_id').notNull(),
    /** The chain's genesis block hash: a local chain restarted from scratch is another chain. */
    genesis: text('genesis').notNull(),
    address: text('address').notNull(),
    nextNonce: integer('next_nonce').notNull(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.genesis, t.address] })],
)

/**
 * Every transaction an operator signs, recorded (nonce, hash, raw bytes) before it is
 * broadcast; replacements append their hash and keep the calldata. signed | sent | mined |
 * superseded (the nonce was used by a transaction we did not record) | dropped (a reorg gave
 * its nonce back and the node no longer has it; the nonce was signed again).
 */
export const operatorTxs = pgTable(
  'operator_txs',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    chainId: integer('chain_id').notNull(),
    genesis: text('genesis').notNull(),
    address: text('address').notNull(),
    nonce: integer('nonce').notNull(),
    /** What it is for, e.g. `batch:42`, `authorize:<subscription>`. */
    purpose: text('purpose').notNull(),
    toAddress: text('to_address').notNull(),
    data: text('data').notNull(),
    gas: bigint('gas', { mode: 'bigint' }).notNull(),
    maxFeePerGas: bigint('max_fee_per_gas', { mode: 'bigint' }).notNull(),
    maxPriorityFeePerGas: bigint('max_priority_fee_per_gas', { mode: 'bigint' }).notNull(),
    /** The latest signed bytes (the last replacement): what a restart broadcasts again. */
    raw: text('raw').notNull(),
    txHashes: text('tx_hashes').array().notNull(),
    status: text('status').notNull(),
    minedHash: text('mined_hash'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    // A nonce given back by a reorg (status dropped) may be signed again.
    uniqueIndex('operator_txs_nonce_idx')
      .on(t.chainId, t.genesis, t.address, t.nonce)
      .where(sql`status <> 'dropped'`),
    index('operator_txs_open_idx')
      .on(t.chainId, t.genesis, t.address)
      .where(sql`status in ('signed', 'sent')`),
    index('operator_txs_purpose_idx').on(t.purpose),
  ],
)
