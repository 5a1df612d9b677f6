import { sql } from 'drizzle-orm'
import {
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core'

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 6 })

/** Organizations: the unit billing is carried by; the owner is the paying wallet. */
export const orgs = pgTable(
  'orgs',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    name: text('name').notNull(),
    /** Lower-case 0x address of the owner's wallet. */
    ownerAddress: text('owner_address').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('orgs_owner_idx').on(t.ownerAddress)],
)

/** API keys of an org's members (agents): stored as a SHA-256 hash, shown once, revocable. */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    orgId: uuid('org_id').notNull(),
    /** hex SHA-256 of the whole key. */
    keyHash: text('key_hash').notNull().unique(),
    /** The first characters, to recognise a key in listings. */
    prefix: text('prefix').notNull(),
    label: text('label'),
    /** Keys are for members (agents); owner and admins sign in with their wallet. */
    role: text('role').notNull().default('member'),
    createdAt: ts('created_at').notNull().defaultNow(),
    revokedAt: ts('revoked_at'),
  },
  (t) => [index('api_keys_org_idx').on(t.orgId)],
)

/** Who administers an org's billing and keys besides its owner wallet (lower-case addresses). */
export const orgAdmins = pgTable(
  'org_admins',
  {
    orgId: uuid('org_id').notNull(),
    address: text('address').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.address] })],
)

/**
 * Bearer sessions: short-lived agent session keys (`mint_session_key`, role member) and owner
 * sign-in sessions (SIWE, role owner/admin). Stored as a SHA-256 hash.
 */
export const sessionKeys = pgTable(
  'session_keys',
  {
    keyHash: text('key_hash').primaryKey(),
    orgId: uuid('org_id').notNull(),
    role: text('role').notNull().default('member'),
    /** The signed-in wallet, for owner/admin sessions. */
    address: text('address'),
    /** The API key that minted it, for agent session keys. */
    parentKeyId: uuid('parent_key_id'),
    expiresAt: ts('expires_at').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('session_keys_org_idx').on(t.orgId)],
)

/** SIWE nonces handed out by `GET /v1/auth/nonce`; each is consumed once. */
export const authNonces = pgTable('auth_nonces', {
  nonce: text('nonce').primaryKey(),
  expiresAt: ts('expires_at').notNull(),
})

/**
 * The first response to each write carrying an `Idempotency-Key`, per org and key: a retry
 * gets it back; the same key with another request is a 409. `status` is null while in flight.
 */
export const idempotentResponses = pgTable(
  'idempotent_responses',
  {
    orgId: uuid('org_id').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    status: integer('status'),
    body: jsonb('body'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.key] })],
)
