import { sql } from 'drizzle-orm'
import {
  bigint,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core'

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 6 })

/** The reference work queue: issues agents claim under a lease and work on. */
export const issues = pgTable(
  'issues',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    orgId: uuid('org_id').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull().default(''),
    /** open | in_progress | done | canceled */
    status: text('status').notNull().default('open'),
    /** 0 (highest) … 4 (lowest). */
    priority: integer('priority').notNull().default(2),
    /** The current lease: who holds it (a key id), since when, until when. */
    leaseHolder: uuid('lease_holder'),
    leaseToken: text('lease_token'),
    leaseClaimedAt: ts('lease_claimed_at'),
    leaseExpiresAt: ts('lease_expires_at'),
    checkpoint: text('checkpoint'),
    version: bigint('version', { mode: 'number' }).notNull().default(sql`1`),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('issues_org_ready_idx').on(t.orgId, t.status, t.priority, t.createdAt)],
)

export const issueComments = pgTable(
  'issue_comments',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    orgId: uuid('org_id').notNull(),
    issueId: uuid('issue_id').notNull(),
    body: text('body').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('issue_comments_issue_idx').on(t.issueId)],
)

/** `from` blocks `to` (kind blocks) or merely relates to it (kind relates). */
export const issueRelations = pgTable(
  'issue_relations',
  {
    orgId: uuid('org_id').notNull(),
    fromId: uuid('from_id').notNull(),
    toId: uuid('to_id').notNull(),
    kind: text('kind').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.fromId, t.toId, t.kind] }),
    index('issue_relations_to_idx').on(t.toId),
  ],
)

export const issueLabels = pgTable(
  'issue_labels',
  {
    orgId: uuid('org_id').notNull(),
    issueId: uuid('issue_id').notNull(),
    label: text('label').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.issueId, t.label] })],
)

/** Attachments are metadata only: a name, a type, a size, where the bytes live. */
export const issueAttachments = pgTable(
  'issue_attachments',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    orgId: uuid('org_id').notNull(),
    issueId: uuid('issue_id').notNull(),
    name: text('name').notNull(),
    contentType: text('content_type').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    url: text('url'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('issue_attachments_issue_idx').on(t.issueId)],
)
