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

// The operator wallet's tables: declared here, beside their only writer (operatorWallet/).

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 6 })

/**
 * The operator wallet's nonce counter per (chain, operator address) — operatorWallet.ts, the only writer.
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
