import type { Db } from '../db/client.js'
import { type LockedAccount, lockAccounts } from './accounts.js'
import type { BillingMode } from './decide.js'
import { headroom, spentInWindow, windowIndexAt } from './decide.js'
import { NoBillingAccountError } from './errors.js'
import { type PlanView, planViewOf } from './plans.js'
import { nowMicros } from './sql.js'

/** Everything the Billing card and `GET /v1/billing` show, in micro-credits (bigint). */
export type BillingSummary = {
  orgId: string
  subscriptionId: string
  state: string
  stateReason: string | null
  owner: string | null
  signupCredit: bigint
  /** How the org pays (postpaid by default). */
  billingMode: BillingMode
  /** Prepaid balance the org may spend (what open reservations leave of it). */
  prepaid: bigint
  /** The plan's included monthly allowance, and what this month drew of it (docs/plans.md). */
  plan: PlanView
  accrued: bigint
  reserved: bigint
  booked: bigint
  /** Lifetime cap: drawn + allowance. */
  cap: bigint
  drawn: bigint
  /** What more can be spent before re-authorizing: allowance − booked − accrued − reserved. */
  remaining: bigint
  monthlyLimit: bigint | null
  spentThisWindow: bigint
  windowIndex: number | null
  windowStart: Date | null
  windowEnd: Date | null
  collected: bigint
  writtenOff: bigint
  /**
   * Booked charges the collector refused for the owner's monthly limit (cut after the usage was
   * booked): settlement sends each again once it fits what is left of the limit, in this window
   * or a later one.
   */
  waitingForLimit: bigint
  /** One of those is larger than the monthly limit itself: it waits until the owner raises it. */
  limitTooLow: boolean
}

/** Reads the billing summary of an org (no locks: one consistent snapshot). */
export async function getBillingSummary(db: Db, orgId: string): Promise<BillingSummary> {
  // Repeatable read: the account, its subscription and its charges from one snapshot, no locks.
  return await db.$client.begin('isolation level repeatable read read only', async (tx) => {
    const a: LockedAccount | undefined = (await lockAccounts(tx, [orgId], { lock: false })).get(
      orgId,
    )
    if (!a) throw new NoBillingAccountError(orgId)
    const [[s], [waiting]] = await Promise.all([
      tx<{ owner: string | null; state_reason: string | null; drawn: bigint }[]>`
        select owner, state_reason, drawn from subscriptions where id = ${a.subscriptionId}`,
      tx<{ total: bigint; largest: bigint | null }[]>`
        select coalesce(sum(amount), 0)::int8 as total, max(amount) as largest from charges
        where subscription_id = ${a.subscriptionId} and status = 'failed' and failure_reason = 'limit'`,
    ])
    const now = nowMicros()
    const w = windowIndexAt(a.windowStart, a.windowSeconds, now)
    const snapshot = {
      ...a,
      voucher: a.voucher - a.reservedVoucher,
    }
    const room = headroom(snapshot, now)
    const len = BigInt(a.windowSeconds) * 1_000_000n
    const start = a.windowStart === null || w === null ? null : a.windowStart + BigInt(w) * len
    return {
      orgId,
      subscriptionId: a.subscriptionId,
      state: a.state,
      stateReason: s?.state_reason ?? null,
      owner: s?.owner ?? null,
      signupCredit: a.voucher - a.reservedVoucher,
      billingMode: a.mode,
      prepaid: a.prepaid - a.reservedPrepaid,
      plan: planViewOf(a, now),
      accrued: a.accrued,
      reserved: a.reserved,
      booked: a.booked,
      cap: (s?.drawn ?? 0n) + a.allowance,
      drawn: s?.drawn ?? 0n,
      remaining: room.allowance > 0n ? room.allowance : 0n,
      monthlyLimit: a.monthlyLimit,
      spentThisWindow: spentInWindow(snapshot, w),
      windowIndex: w,
      windowStart: start === null ? null : new Date(Number(start / 1000n)),
      windowEnd: start === null ? null : new Date(Number((start + len) / 1000n)),
      collected: a.collected,
      writtenOff: a.writtenOff,
      waitingForLimit: waiting?.total ?? 0n,
      limitTooLow:
        a.monthlyLimit !== null && waiting?.largest != null && waiting.largest > a.monthlyLimit,
    }
  })
}
