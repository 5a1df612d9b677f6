import { collectorAbi, usdcAbi } from '../chain/abis.js'
import { applyChainTerms, carryUnchargedIntoWindow, lowerAllowance } from '../ledger/index.js'
import { setSubscriptionState } from '../subscriptions/state/authorizeSubscription.js'
import { subscriptionKey } from '../subscriptions/typedData.js'
import type { SettlementContext } from './context.js'
import { resolveOwnerCancel } from './resolveOwnerCancel.js'

export type TruthChange = {
  subscriptionId: string
  to: 'lapsed' | 'canceled' | 'needs_reauth' | 'active'
  reason: string
}

/**
 * Lapses whose cause clears by itself — the token unpaused, the owner's wallet funded — without
 * the owner signing anything: the check reads them again, and puts the subscription back to
 * `active` once nothing blocks a pull (its failed charges are then sent again).
 */
const selfClearing = ['token_paused', 'balance_empty', 'pull_failed:paused', 'pull_failed:balance']

/**
 * Reads what the chain says about every active subscription — the owner's allowance for the
 * collector, their balance, the blacklist, the token's pause, the collector's own status — so that one revoked,
 * drained or canceled on-chain is never shown `active` (a wallet SDK once reported revoked,
 * never-charged subscriptions as active). Runs before booking and on a timer (which is the
 * backoff of a self-clearing lapse: read again each time, never a pull until the cause is gone).
 */
export async function checkChainTruth(
  ctx: SettlementContext,
  p: { orgIds?: string[] } = {},
): Promise<TruthChange[]> {
  const subs = await ctx.db.$client<
    {
      id: string
      org_id: string
      owner: string
      allowance: bigint
      terms_nonce: number
      state: string
      state_reason: string | null
      next_owed: bigint | null
    }[]
  >`
    select s.id, s.org_id, s.owner, s.allowance, s.terms_nonce, s.state, s.state_reason,
      (select c.amount from charges c where c.subscription_id = s.id
         and c.status in ('booked', 'failed', 'submitted') order by c.seq limit 1) as next_owed
    from subscriptions s join billing_accounts a on a.subscription_id = s.id
    where (s.state = 'active' or (s.state = 'lapsed' and s.state_reason = any(${selfClearing}::text[])))
      and s.owner is not null
      -- A held authorization not yet sent: the chain has nothing yet (allowance 0, no code), and
      -- that is no revocation; settlement sends it when a charge is due.
      and not exists (select 1 from held_authorizations h where h.subscription_id = s.id
                      and h.submitted_at is null and h.dropped_at is null)
      and (${p.orgIds ?? null}::uuid[] is null or s.org_id = any(${p.orgIds ?? null}::uuid[]))`
  const changes: TruthChange[] = []
  const { usdc, collector } = ctx.deployment
  // A paused token declines every pull: nothing is active while it stays paused.
  const paused =
    subs.length > 0 &&
    (await ctx.operator.readContract({ address: usdc, abi: usdcAbi, functionName: 'paused' }))
  for (const s of subs) {
    const owner = s.owner as `0x${string}`
    const [allowance, balance, blacklisted, onChain] = await Promise.all([
      ctx.operator.readContract({
        address: usdc,
        abi: usdcAbi,
        functionName: 'allowance',
        args: [owner, collector!],
      }),
      ctx.operator.readContract({
        address: usdc,
        abi: usdcAbi,
        functionName: 'balanceOf',
        args: [owner],
      }),
      ctx.operator.readContract({
        address: usdc,
        abi: usdcAbi,
        functionName: 'isBlacklisted',
        args: [owner],
      }),
      ctx.operator.readContract({
        address: collector!,
        abi: collectorAbi,
        functionName: 'getSubscription',
        args: [subscriptionKey(s.id)],
      }),
    ])
    // Terms the owner sent to the collector themselves: the gate follows the collector's limit
    // and windows (a new period restarts them, and what is not yet charged is due in the new one).
    if (Number(onChain.status) === 1 && Number(onChain.termsNonce) > s.terms_nonce) {
      const { windowsRestarted } = await applyChainTerms(ctx.db, {
        orgId: s.org_id,
        subscriptionId: s.id,
        termsNonce: Number(onChain.termsNonce),
        windowStart: Number(onChain.start),
        windowSeconds: Number(onChain.period),
        monthlyLimit: onChain.limit === 0n ? null : onChain.limit,
      })
      if (windowsRestarted)
        await carryUnchargedIntoWindow(ctx.db, { orgId: s.org_id, subscriptionId: s.id })
    }
    if (s.state === 'lapsed') {
      const change = await recheckLapse(ctx, s, {
        canceled: Number(onChain.status) === 2,
        paused,
        allowance,
        blacklisted,
        balance,
      })
      if (change) changes.push(change)
      continue
    }
    let change: TruthChange | undefined
    if (Number(onChain.status) === 2)
      change = { subscriptionId: s.id, to: 'canceled', reason: 'canceled_on_chain' }
    else if (paused) change = { subscriptionId: s.id, to: 'lapsed', reason: 'token_paused' }
    else if (allowance === 0n)
      change = { subscriptionId: s.id, to: 'lapsed', reason: 'allowance_revoked' }
    else if (blacklisted) change = { subscriptionId: s.id, to: 'lapsed', reason: 'blacklisted' }
    else if (balance === 0n)
      change = { subscriptionId: s.id, to: 'lapsed', reason: 'balance_empty' }
    else if (headroomOf(allowance, onChain) < BigInt(s.allowance)) {
      // Lowered, not revoked: the gate's headroom follows the chain down. Skipped while a pull
      // is in flight (its own collection moves both numbers); the next check sees it.
      const lowered = await lowerAllowance(ctx.db, {
        orgId: s.org_id,
        subscriptionId: s.id,
        expected: BigInt(s.allowance),
        chainAllowance: headroomOf(allowance, onChain),
      })
      // Less than is already owed: the owner must sign a fresh permit (same subscription).
      if (lowered.lowered && lowered.allowance < lowered.owed)
        change = { subscriptionId: s.id, to: 'needs_reauth', reason: 'allowance_reduced' }
    }
    if (!change) continue
    if (change.to === 'canceled') {
      // The owner's own cancel transaction: nothing can be pulled any more; write off what is owed.
      await resolveOwnerCancel(ctx, {
        orgId: s.org_id,
        subscriptionId: s.id,
        reason: change.reason,
      })
      changes.push(change)
      continue
    }
    await setSubscriptionState(ctx.db, {
      subscriptionId: s.id,
      to: change.to,
      cause: 'chain',
      reason: change.reason,
    })
    changes.push(change)
  }
  return changes
}

/**
 * A self-clearing lapse read again: back to `active` once nothing blocks a pull (the balance
 * covers the next charge owed); moved to the reason that now blocks it when that one needs the
 * owner (a revoked allowance, a blacklisted payer); left as it is while its cause lasts.
 */
async function recheckLapse(
  ctx: SettlementContext,
  s: { id: string; org_id: string; state_reason: string | null; next_owed: bigint | null },
  chain: {
    canceled: boolean
    paused: boolean
    allowance: bigint
    blacklisted: boolean
    balance: bigint
  },
): Promise<TruthChange | undefined> {
  if (chain.canceled) {
    await resolveOwnerCancel(ctx, {
      orgId: s.org_id,
      subscriptionId: s.id,
      reason: 'canceled_on_chain',
    })
    return { subscriptionId: s.id, to: 'canceled', reason: 'canceled_on_chain' }
  }
  const needed = s.next_owed !== null && BigInt(s.next_owed) > 0n ? BigInt(s.next_owed) : 1n
  const cause = chain.paused
    ? 'token_paused'
    : chain.allowance === 0n
      ? 'allowance_revoked'
      : chain.blacklisted
        ? 'blacklisted'
        : chain.balance < needed
          ? 'balance_empty'
          : undefined
  // Still the same kind of cause (a pull's or a check's wording of it): nothing to record.
  if (cause === 'token_paused' || cause === 'balance_empty') return undefined
  const change: TruthChange = cause
    ? { subscriptionId: s.id, to: 'lapsed', reason: cause }
    : { subscriptionId: s.id, to: 'active', reason: `cleared:${s.state_reason}` }
  await setSubscriptionState(ctx.db, {
    subscriptionId: s.id,
    to: change.to,
    cause: 'chain',
    reason: change.reason,
  })
  return change
}

/**
 * What the collector can still pull: the owner's allowance to it, or less when their lifetime cap
 * (terms they may have sent themselves) leaves less.
 */
function headroomOf(allowance: bigint, onChain: { cap: bigint; totalCollected: bigint }) {
  const underCap =
    onChain.cap > onChain.totalCollected ? BigInt(onChain.cap - onChain.totalCollected) : 0n
  return underCap < allowance ? underCap : allowance
}
