import { sql } from 'drizzle-orm'
import { index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'

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
    createdAt: ts('created_at').notNull().defaultNow(),
    revokedAt: ts('revoked_at'),
  },
  (t) => [index('api_keys_org_idx').on(t.orgId)],
)
