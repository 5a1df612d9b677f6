import type { Db } from '../db/client.js'

/** What waits to be delivered in one queue, and the age of its oldest item in seconds. */
export type OutboxGauge = {
  queue: 'outbox' | 'webhooks' | 'email'
  backlog: number
  oldestSeconds: number
}

/**
 * The delivery backlog for metrics, in one round trip: events not yet fanned out (`outbox`),
 * webhook deliveries pending, mails not yet sent; each with its oldest item's age (0: none).
 */
export async function readOutboxGauges(db: Db): Promise<OutboxGauge[]> {
  const rows = await db.$client<{ queue: OutboxGauge['queue']; n: number; age: number | null }[]>`
    select 'outbox' as queue, count(*)::int as n,
      extract(epoch from now() - min(created_at))::float8 as age from outbox
    union all
    select 'webhooks', count(*)::int, extract(epoch from now() - min(created_at))::float8
      from webhook_deliveries where status = 'pending'
    union all
    select 'email', count(*)::int, extract(epoch from now() - min(created_at))::float8
      from email_pending where sent_at is null`
  return rows.map((r) => ({
    queue: r.queue,
    backlog: r.n,
    oldestSeconds: Math.max(0, r.age ?? 0),
  }))
}
