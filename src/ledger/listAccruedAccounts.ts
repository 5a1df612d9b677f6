import type { Db } from '../db/client.js'
import type { SubscriptionState } from '../subscriptions/state/states.js'

export type ListAccruedAccountsParameters = {
  /** Orgs whose accrued usage reached this... */
  minAccruedMicros?: bigint
  /** ...or whose oldest unbooked usage is older than this many seconds (either suffices). */
  maxAgeSeconds?: number
  /** Only subscriptions in these states (default: active). */
  states?: readonly SubscriptionState[]
  orgIds?: readonly string[] | undefined
  /** At most this many (default: all). */
  limit?: number
}

/** One org's usage accrued since its last charge. */
export type AccruedAccount = {
  orgId: string
  subscriptionId: string
  state: SubscriptionState
  /** Billable usage not yet booked into a charge. */
  accrued: bigint
  /** When the oldest of it was recorded. */
  accruedSince: Date | null
}

/**
 * Accrued-since-last-charge per org, for settlement: the orgs with usage to book, in org-id
 * order (the ledger's lock order). With neither threshold given, every org with any accrued.
 *
 * @example
 * const due = await listAccruedAccounts(db, { minAccruedMicros: 1_000_000n, maxAgeSeconds: 86_400 })
 */
export async function listAccruedAccounts(
  db: Db,
  p: ListAccruedAccountsParameters = {},
): Promise<AccruedAccount[]> {
  const min = p.minAccruedMicros?.toString() ?? null
  const age = p.maxAgeSeconds ?? null
  const anyThreshold = min !== null || age !== null
  const rows = await db.$client<
    {
      org_id: string
      subscription_id: string
      state: SubscriptionState
      accrued: bigint
      accrued_since: Date | null
    }[]
  >`
    select a.org_id, a.subscription_id, s.state, a.accrued, a.accrued_since
    from billing_accounts a join subscriptions s on s.id = a.subscription_id
    where a.accrued > 0
      and s.state = any(${[...(p.states ?? ['active'])]}::text[])
      and (${!anyThreshold}
           or (${min}::int8 is not null and a.accrued >= ${min}::int8)
           or (${age}::int8 is not null and a.accrued_since < clock_timestamp() - make_interval(secs => ${age}::int8)))
      and (${p.orgIds ? [...p.orgIds] : null}::uuid[] is null or a.org_id = any(${p.orgIds ? [...p.orgIds] : null}::uuid[]))
    order by a.org_id
    limit ${p.limit ?? null}`
  return rows.map((r) => ({
    orgId: r.org_id,
    subscriptionId: r.subscription_id,
    state: r.state,
    accrued: r.accrued,
    accruedSince: r.accrued_since,
  }))
}
