import type { Secret } from '../config/secret.js'
import { NotFoundError, ValidationError } from '../core/errors.js'
import type { Db } from '../db/client.js'
import { rfc3339 } from '../db/rfc3339.js'
import { newWebhookSecret, seal } from './seal.js'

/** How long the secret before a rotation keeps signing beside the new one (default). */
const defaultOverlapSeconds = 24 * 3600

export type EndpointRow = {
  id: string
  org_id: string
  url: string
  description: string | null
  event_types: string[]
  previous_expires_at: string | null
  disabled_at: string | null
  disabled_reason: string | null
  created_at: string
}

/** An endpoint as the API shows it: never its secret (shown once, at creation and rotation). */
const viewEndpoint = (e: EndpointRow) => ({
  id: e.id,
  url: e.url,
  description: e.description,
  event_types: e.event_types,
  enabled: e.disabled_at === null,
  disabled_reason: e.disabled_reason,
  previous_secret_expires_at: rfc3339(e.previous_expires_at),
  created_at: rfc3339(e.created_at),
})

const columns =
  'id, org_id, url, description, event_types, previous_expires_at, disabled_at, disabled_reason, created_at'

/** Receivers must be reachable URLs; plain http only outside production. */
function checkUrl(url: string, production: boolean) {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new ValidationError('url is not a URL')
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && !production))
    throw new ValidationError(production ? 'url must be https' : 'url must be http or https')
  if (u.username || u.password) throw new ValidationError('url must not carry credentials')
}

export type CreateEndpointParameters = {
  orgId: string
  url: string
  description?: string | undefined
  eventTypes?: string[] | undefined
  production: boolean
}

/** Registers an endpoint; answers it and its signing secret (the only time it is shown). */
export async function createEndpoint(db: Db, key: Secret, p: CreateEndpointParameters) {
  checkUrl(p.url, p.production)
  const secret = newWebhookSecret()
  const [row] = await db.$client<EndpointRow[]>`
    insert into webhook_endpoints (org_id, url, description, event_types, secret_sealed)
    values (${p.orgId}, ${p.url}, ${p.description ?? null}, ${p.eventTypes ?? []}, ${seal(key, secret)})
    returning ${db.$client.unsafe(columns)}`
  return { endpoint: viewEndpoint(row!), secret }
}

export async function listEndpoints(db: Db, orgId: string) {
  const rows = await db.$client<EndpointRow[]>`
    select ${db.$client.unsafe(columns)} from webhook_endpoints where org_id = ${orgId} order by created_at`
  return rows.map(viewEndpoint)
}

export type UpdateEndpointParameters = {
  orgId: string
  id: string
  url?: string | undefined
  description?: string | undefined
  eventTypes?: string[] | undefined
  /** true: enable again (a disabled endpoint's waiting deliveries resume); false: disable. */
  enabled?: boolean | undefined
  production: boolean
}

export async function updateEndpoint(db: Db, p: UpdateEndpointParameters) {
  if (p.url !== undefined) checkUrl(p.url, p.production)
  const [row] = await db.$client<EndpointRow[]>`
    update webhook_endpoints set
      url = coalesce(${p.url ?? null}, url),
      description = coalesce(${p.description ?? null}, description),
      event_types = coalesce(${p.eventTypes ?? null}::text[], event_types),
      disabled_at = case ${p.enabled ?? null}::bool when true then null
        when false then coalesce(disabled_at, clock_timestamp()) else disabled_at end,
      disabled_reason = case ${p.enabled ?? null}::bool when true then null
        when false then 'disabled by the org' else disabled_reason end
    where org_id = ${p.orgId} and id = ${p.id}
    returning ${db.$client.unsafe(columns)}`
  if (!row) throw new NotFoundError(`no webhook endpoint ${p.id}`)
  // Enabled again: what waited for it is due now, not at its backed-off time.
  if (p.enabled === true)
    await db.$client`
      update webhook_deliveries set next_attempt_at = clock_timestamp()
      where endpoint_id = ${p.id} and status = 'pending'`
  return viewEndpoint(row)
}

export async function deleteEndpoint(db: Db, p: { orgId: string; id: string }) {
  return await db.$client.begin(async (tx) => {
    const [row] = await tx<EndpointRow[]>`
      delete from webhook_endpoints where org_id = ${p.orgId} and id = ${p.id}
      returning ${tx.unsafe(columns)}`
    if (!row) throw new NotFoundError(`no webhook endpoint ${p.id}`)
    await tx`delete from webhook_deliveries where endpoint_id = ${p.id} and status = 'pending'`
    return viewEndpoint(row)
  })
}

/**
 * A new signing secret; the one before keeps signing beside it for `overlapSeconds` (every
 * request then carries both signatures), so receivers can switch without missing a delivery.
 */
export async function rotateSecret(
  db: Db,
  key: Secret,
  p: { orgId: string; id: string; overlapSeconds?: number | undefined },
) {
  const secret = newWebhookSecret()
  const [row] = await db.$client<EndpointRow[]>`
    update webhook_endpoints set
      previous_secret_sealed = secret_sealed,
      previous_expires_at = clock_timestamp() + make_interval(secs => ${p.overlapSeconds ?? defaultOverlapSeconds}),
      secret_sealed = ${seal(key, secret)}
    where org_id = ${p.orgId} and id = ${p.id}
    returning ${db.$client.unsafe(columns)}`
  if (!row) throw new NotFoundError(`no webhook endpoint ${p.id}`)
  return { endpoint: viewEndpoint(row), secret }
}

/** The delivery log of an endpoint, newest first, with each attempt. */
export async function listDeliveries(
  db: Db,
  p: { orgId: string; endpointId: string; limit?: number | undefined },
) {
  const rows = await db.$client<
    {
      id: bigint
      event_id: string
      type: string
      status: string
      attempts: number
      next_attempt_at: string
      last_status_code: number | null
      last_error: string | null
      delivered_at: string | null
      created_at: string
      log: { at: string; status_code: number | null; error: string | null; duration_ms: number }[]
    }[]
  >`
    select d.id, d.event_id, e.type, d.status, d.attempts, d.next_attempt_at, d.last_status_code,
      d.last_error, d.delivered_at, d.created_at,
      coalesce((select jsonb_agg(jsonb_build_object('at', a.at, 'status_code', a.status_code,
        'error', a.error, 'duration_ms', a.duration_ms) order by a.id)
        from webhook_attempts a where a.delivery_id = d.id), '[]') as log
    from webhook_deliveries d
    join webhook_endpoints w on w.id = d.endpoint_id and w.org_id = ${p.orgId}
    join events e on e.id = d.event_id
    where d.endpoint_id = ${p.endpointId}
    order by d.id desc limit ${Math.min(p.limit ?? 50, 200)}`
  return rows.map((d) => ({
    id: d.id.toString(),
    event_id: d.event_id,
    type: d.type,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.status === 'pending' ? rfc3339(d.next_attempt_at) : null,
    last_status_code: d.last_status_code,
    last_error: d.last_error,
    delivered_at: rfc3339(d.delivered_at),
    created_at: rfc3339(d.created_at),
    attempts_log: d.log.map((a) => ({ ...a, at: rfc3339(a.at) })),
  }))
}

/**
 * Sends an event to an endpoint again, with the same id (a receiver dedupes on it): the
 * delivery is due now, whatever it was before.
 */
export async function redeliver(db: Db, p: { orgId: string; endpointId: string; eventId: string }) {
  const rows = await db.$client`
    insert into webhook_deliveries (event_id, endpoint_id)
    select e.id, w.id from events e join webhook_endpoints w on w.org_id = e.org_id
    where e.id = ${p.eventId} and w.id = ${p.endpointId} and w.org_id = ${p.orgId}
    on conflict (event_id, endpoint_id) do update set status = 'pending',
      next_attempt_at = clock_timestamp(), locked_until = null, created_at = clock_timestamp()
    returning id`
  if (rows.length === 0)
    throw new NotFoundError(`no event ${p.eventId} for endpoint ${p.endpointId}`)
  return { delivery_id: String(rows[0]!.id) }
}
