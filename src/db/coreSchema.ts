import { integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core'

/** Each running process (api, worker) reports here, so `/healthz` can tell a stalled worker. */
export const processHeartbeats = pgTable('process_heartbeats', {
  name: text('name').primaryKey(),
  kind: text('kind').notNull(),
  pid: integer('pid').notNull(),
  startedAt: timestamp('started_at', { withTimezone: true, precision: 6 }).notNull(),
  lastSeenAt: timestamp('last_seen_at', { withTimezone: true, precision: 6 }).notNull(),
})
