import type { Db } from '../db/client.js'

/** What is waiting to be delivered, and for how long the oldest has waited (for `/metrics`). */
export type NotificationBacklog = {
  /** Events not yet fanned out to their deliveries. */
  outbox: number
  outboxOldestSeconds: number
  /** Webhook deliveries not yet answered 2xx (retries included; disabled endpoints excluded). */
  webhooksPending: number
  webhooksOldestSeconds: number
  /** Events waiting for their mail (hourly digests included). */
  emailsPending: number
  emailsOldestSeconds: number
}

/** The notification backlog: a growing age means delivery is stuck (alert on it). */
export async function notificationBacklog(db: Db): Promise<NotificationBacklog> {
  const [r] = await db.$client<Record<string, number>[]>`
    select
      (select count(*) from outbox)::int as outbox,
      coalesce((select extract(epoch from clock_timestamp() - min(created_at)) from outbox), 0)::float8 as outbox_age,
      (select count(*) from webhook_deliveries d join webhook_endpoints w on w.id = d.endpoint_id
        where d.status = 'pending' and w.disabled_at is null)::int as webhooks,
      coalesce((select extract(epoch from clock_timestamp() - min(d.created_at)) from webhook_deliveries d
        join webhook_endpoints w on w.id = d.endpoint_id
        where d.status = 'pending' and w.disabled_at is null), 0)::float8 as webhooks_age,
      (select count(*) from email_pending where sent_at is null)::int as emails,
      coalesce((select extract(epoch from clock_timestamp() - min(created_at)) from email_pending
        where sent_at is null), 0)::float8 as emails_age`
  return {
    outbox: r!.outbox!,
    outboxOldestSeconds: r!.outbox_age!,
    webhooksPending: r!.webhooks!,
    webhooksOldestSeconds: r!.webhooks_age!,
    emailsPending: r!.emails!,
    emailsOldestSeconds: r!.emails_age!,
  }
}
