// The lifecycle's database tables: the subscription row and the audit trail of its states. Declared
// here, written only by src/subscriptions/ (docs/design.md, "Ownership between folders").
import { sql } from 'drizzle-orm'
import { bigserial, index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { micros, ts } from '../../ledger/tables/columns.js'

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
