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
  uuid,
} from 'drizzle-orm/pg-core'
import { micros, ts } from './columns.js'

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
    /** Units of the action the plan's unit allowance covered (or holds): they cost nothing. */
    includedUnits: integer('included_units').notNull().default(0),
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
