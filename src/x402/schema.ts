import { sql } from 'drizzle-orm'
import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 6 })
const uint256 = (name: string) => numeric(name, { precision: 78, scale: 0, mode: 'bigint' })

/** Where an x402 payment is in its life; `credited_at` says whether the ledger has it. */
export type X402PaymentStatus = 'recorded' | 'settling' | 'settled' | 'failed'

/**
 * One x402 payment: an EIP-3009 `transferWithAuthorization` the payer signed to our payee,
 * recorded BEFORE it is sent (status `recorded`), then `settling` once the operator's
 * transaction is recorded, then `settled` (the token's Transfer seen) or `failed` (nothing
 * moved: the authorization was never used by us). A settled payment is credited to the org's
 * prepaid balance exactly once (`credited_at`, written in the ledger's transaction).
 * The token's own nonce rule makes (chain, token, payer, nonce) unique, and so is it here.
 */
export const x402Payments = pgTable(
  'x402_payments',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    chainId: integer('chain_id').notNull(),
    token: text('token').notNull(),
    /** The authorizer (`from`), lower-case hex. */
    payer: text('payer').notNull(),
    /** The recipient (`to`): our payee, lower-case hex. */
    payee: text('payee').notNull(),
    value: uint256('value').notNull(),
    validAfter: uint256('valid_after').notNull(),
    validBefore: uint256('valid_before').notNull(),
    /** The EIP-3009 nonce (bytes32 hex, lower-case). */
    nonce: text('nonce').notNull(),
    signature: text('signature').notNull(),
    /** The `payment-identifier` extension's id, when the client sent one: an idempotency key. */
    paymentId: text('payment_id'),
    /** `topup` of an existing org, or `signup` of a new one owned by the payer. */
    purpose: text('purpose').$type<'topup' | 'signup'>().notNull(),
    /** The org credited: known up front for a top-up, set at credit for a sign-up. */
    orgId: uuid('org_id'),
    status: text('status').$type<X402PaymentStatus>().notNull().default('recorded'),
    /** The operator transaction (operator_txs.id) that carries the authorization. */
    operatorTxId: bigint('operator_tx_id', { mode: 'bigint' }),
    txHash: text('tx_hash'),
    blockNumber: bigint('block_number', { mode: 'bigint' }),
    failureReason: text('failure_reason'),
    /** The chain's head when recorded: the authorization's use is searched for from here. */
    recordedBlock: bigint('recorded_block', { mode: 'bigint' }).notNull(),
    creditedAt: ts('credited_at'),
    /** When a request began to be served on this payment: one at a time, and once. */
    servingSince: ts('serving_since'),
    /** What the request that paid answered (status and body), served again to a retry. */
    response: jsonb('response'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('x402_payments_authorization').on(t.chainId, t.token, t.payer, t.nonce),
    uniqueIndex('x402_payments_payment_id')
      .on(t.payer, t.paymentId)
      .where(sql`${t.paymentId} is not null`),
    index('x402_payments_open')
      .on(t.status)
      .where(
        sql`${t.status} in ('recorded', 'settling') or (${t.status} = 'settled' and ${t.creditedAt} is null)`,
      ),
    index('x402_payments_org').on(t.orgId, t.createdAt),
  ],
)
