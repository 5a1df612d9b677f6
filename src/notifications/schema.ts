import { sql } from 'drizzle-orm'
import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 6 })

/**
 * Every notification event, with its stable id (`evt_…`, the `webhook-id` of each delivery).
 * Written by database triggers in the transaction of its cause (see the migration
 * `0017_notifications.sql`) or by `recordEvent` in the caller's transaction; never updated.
 */
export const events = pgTable(
  'events',
  {
    id: text('id').primaryKey(),
    /** Order of writing: the cursor of `GET /v1/events`. */
    seq: bigserial('seq', { mode: 'bigint' }).notNull(),
    /** Null for operator events (`operator.eth_low`). */
    orgId: uuid('org_id'),
    subscriptionId: text('subscription_id'),
    type: text('type').notNull(),
    data: jsonb('data').notNull(),
    createdAt: ts('created_at').notNull().default(sql`clock_timestamp()`),
  },
  (t) => [uniqueIndex('events_seq_idx').on(t.seq), index('events_org_seq_idx').on(t.orgId, t.seq)],
)

/** Events not yet fanned out to their deliveries: a row per event, deleted when fanned out. */
export const outbox = pgTable('outbox', {
  eventId: text('event_id').primaryKey(),
  createdAt: ts('created_at').notNull().default(sql`clock_timestamp()`),
})

/** Webhook endpoints an owner or admin registered for the org. Secrets are stored sealed. */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id').notNull(),
    url: text('url').notNull(),
    description: text('description'),
    /** Event types delivered; empty: all of them. */
    eventTypes: text('event_types').array().notNull().default(sql`'{}'::text[]`),
    /** The signing secret (`whsec_…`), sealed with the notify key (AES-256-GCM). */
    secretSealed: text('secret_sealed').notNull(),
    /** The secret before the last rotation, still signing until `previousExpiresAt`. */
    previousSecretSealed: text('previous_secret_sealed'),
    previousExpiresAt: ts('previous_expires_at'),
    disabledAt: ts('disabled_at'),
    disabledReason: text('disabled_reason'),
    createdAt: ts('created_at').notNull().default(sql`clock_timestamp()`),
  },
  (t) => [index('webhook_endpoints_org_idx').on(t.orgId)],
)

/**
 * One event to one endpoint: pending until the receiver answers 2xx, retried with backoff
 * for up to 3 days. `lockedUntil` is the claim of the worker sending it (a crashed worker's
 * claim runs out and another sends it again, with the same id).
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    eventId: text('event_id').notNull(),
    endpointId: uuid('endpoint_id').notNull(),
    /** pending | delivered | failed */
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull().default(sql`clock_timestamp()`),
    lockedUntil: ts('locked_until'),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    deliveredAt: ts('delivered_at'),
    createdAt: ts('created_at').notNull().default(sql`clock_timestamp()`),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_event_endpoint_idx').on(t.eventId, t.endpointId),
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`status = 'pending'`),
    index('webhook_deliveries_endpoint_idx').on(t.endpointId, t.id),
  ],
)

/** The delivery log: every attempt, its answer and how long it took. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    deliveryId: bigint('delivery_id', { mode: 'bigint' }).notNull(),
    at: ts('at').notNull().default(sql`clock_timestamp()`),
    statusCode: integer('status_code'),
    error: text('error'),
    durationMs: integer('duration_ms').notNull(),
  },
  (t) => [index('webhook_attempts_delivery_idx').on(t.deliveryId, t.id)],
)

/** The owner's email address for notices, its verification, and the kinds chosen. */
export const emailSettings = pgTable('email_settings', {
  orgId: uuid('org_id').primaryKey(),
  address: text('address').notNull(),
  verifiedAt: ts('verified_at'),
  /** sha256 of the one-time verification token (the token itself is only in the mail). */
  verifyTokenHash: text('verify_token_hash'),
  verifyExpiresAt: ts('verify_expires_at'),
  /**
   * The verification mail still to send: its token sealed under the notify key (cleared once
   * the SMTP server accepted it). The worker sends it, retrying while the server refuses.
   */
  verifyMailSealed: text('verify_mail_sealed'),
  verifyMailAttempts: integer('verify_mail_attempts').notNull().default(0),
  verifyMailNextAt: ts('verify_mail_next_at'),
  /** Event kinds mailed. */
  kinds: text('kinds').array().notNull(),
  updatedAt: ts('updated_at').notNull().default(sql`clock_timestamp()`),
})

/**
 * Events waiting to be mailed to a verified address: grouped per org and kind into one mail
 * (a digest when several), at most one per org and kind per hour.
 */
export const emailPending = pgTable(
  'email_pending',
  {
    eventId: text('event_id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    kind: text('kind').notNull(),
    address: text('address').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull().default(sql`clock_timestamp()`),
    /** Set when the mail carrying it was accepted by the SMTP server. */
    sentAt: ts('sent_at'),
    createdAt: ts('created_at').notNull().default(sql`clock_timestamp()`),
  },
  (t) => [index('email_pending_due_idx').on(t.orgId, t.kind).where(sql`sent_at is null`)],
)

/** Mails sent: the hourly rule reads the last one per org and kind. */
export const emailSends = pgTable(
  'email_sends',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    orgId: uuid('org_id').notNull(),
    kind: text('kind').notNull(),
    address: text('address').notNull(),
    eventIds: text('event_ids').array().notNull(),
    messageId: text('message_id').notNull(),
    sentAt: ts('sent_at').notNull().default(sql`clock_timestamp()`),
  },
  (t) => [index('email_sends_org_kind_idx').on(t.orgId, t.kind, t.sentAt)],
)
