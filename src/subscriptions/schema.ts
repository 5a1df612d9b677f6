import { jsonb, numeric, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { subscriptions } from './state/tables.js'

// The lifecycle's tables: the subscription row and its transitions (state/, at the ledger's level,
// which the meter writes through), and the authorizations held off-chain (below).
export * from './state/tables.js'

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 6 })
const uint256 = (name: string) => numeric(name, { precision: 78, scale: 0, mode: 'bigint' })

/** Terms as held: the signed EIP-712 message (uint256s as decimal strings) and its signature. */
export type HeldTerms = {
  /** The lifetime cap (absent from rows held before terms carried it: those can no longer be sent). */
  cap?: string
  limit: string
  period: number
  nonce: number
  deadline: string
  signature: `0x${string}`
}

/**
 * A counterfactual owner's signed authorization, held off-chain instead of sent: submitting its
 * ERC-6492 permit deploys the owner's wallet (through the unprivileged validator) at the
 * operator's cost, so it is sent only when a charge is due and the wallet's balance covers it
 * (src/subscriptions/submitHeldAuthorization.ts). One row per subscription: a re-sign before
 * submission replaces it. Unsubmitted = `submitted_at` and `dropped_at` both null.
 */
export const heldAuthorizations = pgTable('held_authorizations', {
  subscriptionId: text('subscription_id')
    .primaryKey()
    .references(() => subscriptions.id),
  orgId: uuid('org_id').notNull(),
  /** The owner wallet's address (checksummed), not yet deployed when held. */
  owner: text('owner').notNull(),
  permitValue: uint256('permit_value').notNull(),
  permitDeadline: uint256('permit_deadline').notNull(),
  permitNonce: uint256('permit_nonce').notNull(),
  /** The ERC-6492-wrapped permit signature. */
  permitSignature: text('permit_signature').notNull(),
  terms: jsonb('terms').$type<HeldTerms>(),
  heldAt: ts('held_at').notNull().defaultNow(),
  submittedAt: ts('submitted_at'),
  txHash: text('tx_hash'),
  /** Never to be sent: canceled while held, superseded by a direct authorization, or unusable. */
  droppedAt: ts('dropped_at'),
  droppedReason: text('dropped_reason'),
})
