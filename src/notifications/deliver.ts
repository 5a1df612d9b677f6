import { Webhook } from 'standardwebhooks'
import type { Secret } from '../config/secret.js'
import type { Db } from '../db/client.js'
import { type EventLinks, type EventRow, viewEvent } from './events.js'
import { unseal } from './seal.js'

/**
 * Moves events from the outbox to their deliveries — one per enabled webhook endpoint that
 * wants the type, one pending mail where the org's verified address chose the kind — and
 * deletes their outbox rows, all in one transaction: a crash leaves either both or neither.
 * Rows another worker holds are skipped (`SKIP LOCKED`), so any number may run at once.
 */
export async function fanOut(db: Db, limit = 500): Promise<number> {
  return await db.$client.begin(async (tx) => {
    const claimed = await tx<{ event_id: string }[]>`
      select event_id from outbox order by created_at, event_id limit ${limit} for update skip locked`
    if (claimed.length === 0) return 0
    const ids = claimed.map((c) => c.event_id)
    await tx`
      insert into webhook_deliveries (event_id, endpoint_id)
      select e.id, w.id from events e
      join webhook_endpoints w on w.org_id = e.org_id and w.disabled_at is null
        and (cardinality(w.event_types) = 0 or e.type = any(w.event_types))
      where e.id = any(${ids}::text[])
      on conflict (event_id, endpoint_id) do nothing`
    await tx`
      insert into email_pending (event_id, org_id, kind, address)
      select e.id, e.org_id, e.type, s.address from events e
      join email_settings s on s.org_id = e.org_id and s.verified_at is not null
        and e.type = any(s.kinds)
      where e.id = any(${ids}::text[])
      on conflict (event_id) do nothing`
    await tx`delete from outbox where event_id = any(${ids}::text[])`
    return ids.length
  })
}

/** When a failed delivery is tried again, and when it is given up. */
export type RetryPolicy = {
  /** The first retry's delay; each next one doubles, up to `maxDelayMs`. */
  baseDelayMs: number
  maxDelayMs: number
  /** After this long failing, the delivery is failed and its endpoint disabled. */
  giveUpAfterMs: number
}
const defaultRetryPolicy: RetryPolicy = {
  baseDelayMs: 10_000,
  maxDelayMs: 6 * 3600_000,
  giveUpAfterMs: 3 * 24 * 3600_000,
}

export type DeliverWebhooksOptions = {
  key: Secret
  links: EventLinks
  retry?: RetryPolicy | undefined
  /** Most deliveries claimed (and sent at once) per call. */
  batch?: number | undefined
  /** Per request; a receiver slower than this is a failed attempt. */
  timeoutMs?: number | undefined
  /** How long a claim holds: past it, another worker sends the delivery again (same id). */
  claimMs?: number | undefined
}

type Claimed = {
  id: bigint
  endpoint_id: string
  attempts: number
  age_ms: number
  url: string
  secret_sealed: string
  previous_secret_sealed: string | null
  previous_live: boolean
} & Omit<EventRow, 'id'> & { event_id: string }

/** The body of a delivery: the same bytes every time the event is sent. */
const webhookBody = (e: EventRow, links: EventLinks) => {
  const view = viewEvent(e, links)
  return JSON.stringify({ type: view.type, timestamp: view.created_at, data: view })
}

/**
 * Sends the due webhook deliveries: claims them (a short transaction, `SKIP LOCKED`), posts
 * each signed per Standard Webhooks (`webhook-id` = the event id; every live secret signs),
 * then records the answer. A 2xx delivers; anything else retries with backoff until
 * `giveUpAfterMs`, when the delivery fails and the endpoint is disabled with a
 * `webhook.disabled` event. A worker that dies mid-send leaves its claim to run out: the
 * delivery is sent again with the same id (at least once). Returns how many were sent.
 */
export async function deliverWebhooks(db: Db, o: DeliverWebhooksOptions) {
  const retry = o.retry ?? defaultRetryPolicy
  const claimed = await db.$client<Claimed[]>`
    with due as (
      select d.id from webhook_deliveries d
      join webhook_endpoints w on w.id = d.endpoint_id and w.disabled_at is null
      where d.status = 'pending' and d.next_attempt_at <= clock_timestamp()
        and (d.locked_until is null or d.locked_until < clock_timestamp())
      order by d.next_attempt_at, d.id
      limit ${o.batch ?? 50}
      for update of d skip locked
    ), c as (
      update webhook_deliveries d set attempts = d.attempts + 1,
        locked_until = clock_timestamp() + make_interval(secs => ${(o.claimMs ?? 60_000) / 1000})
      from due where d.id = due.id
      returning d.id, d.event_id, d.endpoint_id, d.attempts,
        (extract(epoch from clock_timestamp() - d.created_at) * 1000)::int8 as age_ms
    )
    select c.*, w.url, w.secret_sealed, w.previous_secret_sealed,
      coalesce(w.previous_expires_at > clock_timestamp(), false) as previous_live,
      e.seq, e.org_id, e.subscription_id, e.type, e.data, e.created_at
    from c join webhook_endpoints w on w.id = c.endpoint_id join events e on e.id = c.event_id`
  const results = await Promise.all(claimed.map((d) => send(o, d)))
  // The deliveries that went through are recorded together (one transaction for the batch, so a
  // storm costs the database a few statements, not two per event); a failure decides its own
  // retry or give-up.
  const delivered = results.filter((r) => r.error === null)
  if (delivered.length > 0) await recordDelivered(db, delivered)
  for (const r of results) if (r.error !== null) await record(db, retry, r.d, r)
  return claimed.length
}

type Outcome = { d: Claimed; status: number | null; error: string | null; durationMs: number }

async function send(o: DeliverWebhooksOptions, d: Claimed): Promise<Outcome> {
  const body = webhookBody({ ...d, id: d.event_id }, o.links)
  const secrets = [
    d.secret_sealed,
    ...(d.previous_live && d.previous_secret_sealed ? [d.previous_secret_sealed] : []),
  ]
  const now = new Date()
  const signature = secrets
    .map((s) => new Webhook(unseal(o.key, s)).sign(d.event_id, now, body))
    .join(' ')
  const started = performance.now()
  let status: number | null = null
  let error: string | null = null
  try {
    const res = await fetch(d.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Tollgate-Webhooks/1',
        'webhook-id': d.event_id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
    })
    status = res.status
    await res.body?.cancel()
    if (status < 200 || status >= 300) error = `answered ${status}`
  } catch (e) {
    error = (
      e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)
    ).slice(0, 300)
  }
  return { d, status, error, durationMs: Math.round(performance.now() - started) }
}

/** Records answered deliveries as delivered, each with its attempt, in one transaction. */
async function recordDelivered(db: Db, done: Outcome[]) {
  const ids = done.map((r) => r.d.id.toString())
  const codes = done.map((r) => r.status)
  await db.$client.begin(async (tx) => {
    await tx`
      insert into webhook_attempts (delivery_id, status_code, error, duration_ms)
      select unnest(${ids}::int8[]), unnest(${codes}::int4[]), null,
        unnest(${done.map((r) => r.durationMs)}::int4[])`
    await tx`
      update webhook_deliveries d set status = 'delivered', delivered_at = clock_timestamp(),
        locked_until = null, last_status_code = v.code, last_error = null
      from (select unnest(${ids}::int8[]) as id, unnest(${codes}::int4[]) as code) v
      where d.id = v.id`
  })
}

async function record(
  db: Db,
  retry: RetryPolicy,
  d: Claimed,
  r: { status: number | null; error: string | null; durationMs: number },
) {
  await db.$client.begin(async (tx) => {
    await tx`
      insert into webhook_attempts (delivery_id, status_code, error, duration_ms)
      values (${d.id.toString()}, ${r.status}, ${r.error}, ${r.durationMs})`
    if (d.age_ms >= retry.giveUpAfterMs) {
      await tx`
        update webhook_deliveries set status = 'failed', locked_until = null,
          last_status_code = ${r.status}, last_error = ${r.error}
        where id = ${d.id.toString()}`
      const [disabled] = await tx<{ disabled_at: string }[]>`
        update webhook_endpoints set disabled_at = clock_timestamp(),
          disabled_reason = ${`deliveries failed for ${Math.round(retry.giveUpAfterMs / 3600_000)} hours; last: ${r.error}`}
        where id = ${d.endpoint_id} and disabled_at is null
        returning disabled_at`
      if (disabled)
        await tx`
          select tollgate_emit_event(null, ${d.org_id}::uuid, null, 'webhook.disabled',
            jsonb_build_object('endpoint_id', ${d.endpoint_id}::text, 'url', ${d.url}::text,
              'last_error', ${r.error}::text))`
      return
    }
    const delay = Math.min(retry.baseDelayMs * 2 ** Math.min(d.attempts - 1, 30), retry.maxDelayMs)
    // A little jitter, so a receiver back from an outage is not hit by every retry at once.
    const jittered = Math.round(delay * (0.9 + Math.random() * 0.2))
    await tx`
      update webhook_deliveries set locked_until = null, last_status_code = ${r.status},
        last_error = ${r.error},
        next_attempt_at = clock_timestamp() + make_interval(secs => ${jittered / 1000})
      where id = ${d.id.toString()}`
  })
}
