import { InvalidTransitionError } from '../../ledger/errors.js'
import { restartSpendWindow } from '../../ledger/restartSpendWindow.js'
import type { Sql } from '../../ledger/sql.js'
import { microsOf, toTimestamp } from '../../ledger/sql.js'
import { allowedTransitions, type SubscriptionState, type TransitionCause } from './states.js'

/** What an authorization (first or re-) sets on the subscription with the move to `active`. */
export type Authorization = {
  /** Omitted: kept (terms alone). */
  owner?: string
  /** The token allowance now in place for the collector; omitted: kept (terms alone). */
  allowance?: bigint
  /** Start of the fixed windows: given (the chain's), else kept, else the first authorization. */
  windowStart?: bigint
  windowSeconds?: number
  monthlyLimit?: bigint | null
  termsNonce?: number
}

export type TransitionSubscriptionParameters = {
  subscriptionId: string
  to: SubscriptionState
  cause: TransitionCause
  actor?: string | undefined
  reason?: string | undefined
  /** Microseconds since the epoch; defaults to the database clock. */
  at?: bigint | undefined
  authorization?: Authorization | undefined
}

export type TransitionSubscriptionReturnType = { from: SubscriptionState; to: SubscriptionState }

/**
 * The one function every subscription state change goes through: checks the move against
 * the state machine, applies it (with what an authorization sets), and records who or what
 * caused it, when and why. Run it inside the caller's transaction; it locks the row.
 */
export async function transitionSubscription(
  sql: Sql,
  p: TransitionSubscriptionParameters,
): Promise<TransitionSubscriptionReturnType> {
  const [row] = await sql<{ state: SubscriptionState; window_start: bigint | null }[]>`
    select state, ${sql.unsafe(microsOf('window_start'))} as window_start
    from subscriptions where id = ${p.subscriptionId} for update`
  if (!row)
    throw new InvalidTransitionError({ subscriptionId: p.subscriptionId, from: 'none', to: p.to })
  const from = row.state
  if (!allowedTransitions[from].includes(p.to)) {
    throw new InvalidTransitionError({ subscriptionId: p.subscriptionId, from, to: p.to })
  }
  const at = p.at === undefined ? sql`clock_timestamp()` : sql`${toTimestamp(p.at)}::timestamptz`
  const a = p.authorization
  await sql`
    update subscriptions set
      state = ${p.to},
      state_reason = ${p.reason ?? null},
      state_changed_at = ${at},
      owner = coalesce(${a?.owner ?? null}, owner),
      allowance = coalesce(${a?.allowance === undefined ? null : a.allowance.toString()}::int8, allowance),
      window_start = coalesce(${a?.windowStart === undefined ? null : toTimestamp(a.windowStart)}::timestamptz, window_start, case when ${a !== undefined} then ${at} end),
      window_seconds = coalesce(${a?.windowSeconds ?? null}::int4, window_seconds),
      monthly_limit = case when ${a !== undefined && a.monthlyLimit !== undefined} then ${a?.monthlyLimit?.toString() ?? null}::int8 else monthly_limit end,
      terms_nonce = coalesce(${a?.termsNonce ?? null}::int4, terms_nonce)
    where id = ${p.subscriptionId}`
  // New windows (the chain's authorization started them afresh): the monthly meter restarts.
  if (
    a?.windowStart !== undefined &&
    row.window_start !== null &&
    a.windowStart !== row.window_start
  ) {
    await restartSpendWindow(sql, { subscriptionId: p.subscriptionId })
  }
  await sql`
    insert into subscription_transitions (subscription_id, from_state, to_state, cause, actor, reason, at)
    values (${p.subscriptionId}, ${from}, ${p.to}, ${p.cause}, ${p.actor ?? null}, ${p.reason ?? null}, ${at})`
  return { from, to: p.to }
}
