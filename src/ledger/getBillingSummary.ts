import type { Db } from '../db/client.js'
import { type LockedAccount, lockAccounts } from './accounts.js'
import { headroom, spentInWindow, windowIndexAt } from './decide.js'
import { NoBillingAccountError } from './errors.js'
import { nowMicros } from './sql.js'

/** Everything the Billing card and `GET /v1/billing` show, in micro-credits (bigint). */
export type BillingSummary = {
  orgId: string
  subscriptionId: string
  state: string
  stateReason: string | null
  owner: string | null
  signupCredit: bigint
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
}

/** Reads the billing summary of an org (no locks: a consistent snapshot of one row pair). */
export async function getBillingSummary(db: Db, orgId: string): Promise<BillingSummary> {
  // Repeatable read: the account row and the subscription row from one snapshot, no locks.
  return await db.$client.begin('isolation level repeatable read read only', async (tx) => {
    const a: LockedAccount | undefined = (await lockAccounts(tx, [orgId], { lock: false })).get(
      orgId,
    )
    if (!a) throw new NoBillingAccountError(orgId)
    const [s] = await tx<{ owner: string | null; state_reason: string | null; drawn: bigint }[]>`
      select owner, state_reason, drawn from subscriptions where id = ${a.subscriptionId}`
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
    }
  })
}
