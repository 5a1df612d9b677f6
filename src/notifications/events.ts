import { txUrl } from '../chain/explorer.js'
import type { Db } from '../db/client.js'
import { rfc3339 } from '../db/rfc3339.js'

/** Every event type, the order the owner's notification settings list them in. */
export const eventTypes = [
  'allowance.low',
  'allowance.exhausted',
  'budget.reached',
  'budget.reset',
  'credit.low',
  'credit.exhausted',
  'subscription.activated',
  'subscription.lapsed',
  'subscription.recovered',
  'subscription.canceled',
  'charge.collected',
  'charge.failed',
  'permit.expiring',
  'webhook.disabled',
  'operator.eth_low',
] as const

/** What renders an event's public form: the links it carries. */
export type EventLinks = { publicBaseUrl: string; chainId?: number | undefined }

/** One event as `GET /v1/events`, webhooks and mails show it. */
export type EventView = {
  id: string
  type: string
  created_at: string
  org_id: string | null
  subscription_id: string | null
  data: Record<string, unknown>
}

export type EventRow = {
  id: string
  seq: bigint
  org_id: string | null
  subscription_id: string | null
  type: string
  data: Record<string, unknown>
  created_at: string | Date
}

/** Plain words for the state reasons the ledger and settlement record. */
const reasonWords: Record<string, string> = {
  allowance_exhausted: 'the allowance you authorized is used up',
  allowance_reduced: 'the token allowance on-chain is below what is owed',
  allowance_revoked: 'the token allowance for the collector was revoked',
  balance_empty: 'the paying wallet has no USDC left',
  balance_short: 'the paying wallet holds less USDC than is owed',
  token_paused: 'USDC transfers are paused',
  blacklisted: 'the paying wallet is blocked by the USDC issuer',
  canceled: 'the subscription was canceled',
  canceled_on_chain: 'the subscription was canceled on-chain',
  canceled_by_signature: 'the owner canceled with a signature',
  limit: 'the monthly limit you set leaves no room for it this period',
  seq_blocked: 'an earlier charge must be collected first',
  payee_blacklisted: 'the receiving wallet is blocked by the USDC issuer',
}

/** A recorded reason in plain words (unknown ones as they are, underscores spaced). */
function plainReason(reason: unknown): string | null {
  if (typeof reason !== 'string' || reason === '') return null
  return reasonWords[reason] ?? reason.replace(/_/g, ' ')
}

/**
 * An event's public form: the stored data plus the links derived from it — the re-up link
 * `/s/<subscription_id>`, a transaction's explorer link — and reasons in plain words. The same
 * event renders the same way every time (a redelivery carries the same body).
 */
export function viewEvent(row: EventRow, links: EventLinks): EventView {
  const data: Record<string, unknown> = { ...row.data }
  if (row.subscription_id) data.manage_url = `${links.publicBaseUrl}/s/${row.subscription_id}`
  if (typeof data.tx_hash === 'string' && links.chainId !== undefined)
    data.explorer_url = txUrl(links.chainId, data.tx_hash)
  if ('reason' in data) data.reason_text = plainReason(data.reason)
  return {
    id: row.id,
    type: row.type,
    created_at: rfc3339(row.created_at),
    org_id: row.org_id,
    subscription_id: row.subscription_id,
    data,
  }
}

export type ListEventsParameters = {
  orgId: string
  /** Newest first, below this cursor. */
  before?: bigint | undefined
  /** Oldest first, above this cursor (polling: pass the last `seq` seen). */
  after?: bigint | undefined
  types?: string[] | undefined
  limit?: number | undefined
}

/** An org's events, paginated by `seq`: newest first, or oldest first after a cursor. */
export async function listEvents(db: Db, p: ListEventsParameters): Promise<EventRow[]> {
  const limit = Math.min(p.limit ?? 50, 500)
  const types = p.types ?? null
  if (p.after !== undefined) {
    return await db.$client<EventRow[]>`
      select id, seq, org_id, subscription_id, type, data, created_at from events
      where org_id = ${p.orgId} and seq > ${p.after.toString()}::int8
        and (${types}::text[] is null or type = any(${types}::text[]))
      order by seq limit ${limit}`
  }
  return await db.$client<EventRow[]>`
    select id, seq, org_id, subscription_id, type, data, created_at from events
    where org_id = ${p.orgId}
      and (${p.before?.toString() ?? null}::int8 is null or seq < ${p.before?.toString() ?? null}::int8)
      and (${types}::text[] is null or type = any(${types}::text[]))
    order by seq desc limit ${limit}`
}
