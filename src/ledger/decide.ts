import type { SubscriptionState } from './states.js'
import { neverRefusedActions, windDownActions } from './states.js'

/** Microseconds since the epoch: the ledger's clock unit, exact at window boundaries. */
export type Micros = bigint

/** What the gate needs to know about an org, as locked in the metering transaction. */
export type AccountSnapshot = {
  state: SubscriptionState
  stateChangedAt: Micros
  voucher: bigint
  voucherExhaustedAt: Micros | null
  accrued: bigint
  reserved: bigint
  booked: bigint
  allowance: bigint
  monthlyLimit: bigint | null
  windowStart: Micros | null
  windowSeconds: number
  spendWindow: number
  spendWindowSpent: bigint
  /**
   * Charges the collector refused for the owner's limit (cut after the usage was booked), still
   * owed: they are collected under that limit in a later window, so each window's room is what
   * the limit leaves after them — nothing more is served than the limit lets be collected.
   */
  limitWaiting?: bigint | undefined
}

export type MeterRequest = {
  action: string
  quantity: number
  unitPrice: bigint
  now: Micros
  /** For lease wind-down: when the lease was claimed. */
  leaseClaimedAt?: Micros | undefined
}

export type Decision =
  | { kind: 'charge'; voucher: bigint; billable: bigint; windowIndex: number | null }
  | { kind: 'free'; reason: 'wind_down' | 'session_key'; windowIndex: number | null }
  | {
      kind: 'refuse'
      code: 'BILLING_INACTIVE'
      reason: 'inactive' | 'no_credit'
      /** Set when this refusal is what moves the subscription (allowance ran out). */
      transition?: 'needs_reauth'
    }
  | { kind: 'refuse'; code: 'SPEND_CAP_REACHED'; limit: bigint; spent: bigint }

/** The fixed window `now` falls in: windows of `windowSeconds` from the authorization. */
export function windowIndexAt(
  windowStart: Micros | null,
  windowSeconds: number,
  now: Micros,
): number | null {
  if (windowStart === null || now < windowStart) return windowStart === null ? null : 0
  return Number((now - windowStart) / (BigInt(windowSeconds) * 1_000_000n))
}

/** Billable usage already counted in the window `now` falls in. */
export function spentInWindow(s: AccountSnapshot, windowIndex: number | null): bigint {
  return windowIndex !== null && windowIndex === s.spendWindow ? s.spendWindowSpent : 0n
}

/**
 * What counts against the limit in the window `windowIndex`: usage metered in it, and charges
 * waiting for room under the limit (in their own window they are counted twice, harmlessly: a
 * charge refused for the limit means its window was already over it).
 */
function countedInWindow(s: AccountSnapshot, windowIndex: number | null): bigint {
  return spentInWindow(s, windowIndex) + (s.limitWaiting ?? 0n)
}

/** How much more billable usage fits: the allowance and the monthly limit, whichever is less. */
export function headroom(s: AccountSnapshot, now: Micros) {
  const allowance = s.allowance - s.booked - s.accrued - s.reserved
  const w = windowIndexAt(s.windowStart, s.windowSeconds, now)
  const monthly = s.monthlyLimit === null ? null : s.monthlyLimit - countedInWindow(s, w)
  return { allowance, monthly, windowIndex: w }
}

function payable(s: AccountSnapshot, total: bigint, now: Micros): Decision {
  const windowIndex = windowIndexAt(s.windowStart, s.windowSeconds, now)
  switch (s.state) {
    case 'pending':
      if (s.voucher >= total) return { kind: 'charge', voucher: total, billable: 0n, windowIndex }
      return { kind: 'refuse', code: 'BILLING_INACTIVE', reason: 'no_credit' }
    case 'active': {
      const voucher = s.voucher < total ? s.voucher : total
      const billable = total - voucher
      if (billable > 0n) {
        const room = headroom(s, now)
        if (billable > room.allowance) {
          return {
            kind: 'refuse',
            code: 'BILLING_INACTIVE',
            reason: 'inactive',
            transition: 'needs_reauth',
          }
        }
        if (room.monthly !== null && billable > room.monthly) {
          return {
            kind: 'refuse',
            code: 'SPEND_CAP_REACHED',
            limit: s.monthlyLimit!,
            spent: countedInWindow(s, room.windowIndex),
          }
        }
      }
      return { kind: 'charge', voucher, billable, windowIndex }
    }
    default:
      return { kind: 'refuse', code: 'BILLING_INACTIVE', reason: 'inactive' }
  }
}

/** When the org stopped being able to pay, for the wind-down rule. */
function blockedSince(s: AccountSnapshot, now: Micros): Micros {
  if (s.state === 'pending') return s.voucherExhaustedAt ?? now
  if (s.state === 'active') return now
  return s.stateChangedAt
}

/**
 * The gate: decides one metered action against an org's locked snapshot. Pure, so the
 * metering transaction, the unit tests and the model-based test all run the same rules.
 *
 * - pending: only what the voucher fully covers, else `no_credit`;
 * - active: voucher first (split), the rest within min(allowance headroom, monthly headroom);
 *   not fitting the allowance moves the subscription to needs_reauth, not fitting the monthly
 *   limit is `SPEND_CAP_REACHED` and the state stays;
 * - needs_reauth, lapsed, canceled: `inactive`;
 * - `mint_session_key` is never refused (free while the org cannot pay); lease wind-down is
 *   free for a lease claimed before the block, refused for one claimed after.
 */
export function decide(s: AccountSnapshot, r: MeterRequest): Decision {
  const total = r.unitPrice * BigInt(r.quantity)
  const d = payable(s, total, r.now)
  if (d.kind !== 'refuse') return d
  const windowIndex = windowIndexAt(s.windowStart, s.windowSeconds, r.now)
  if (neverRefusedActions.has(r.action)) return { kind: 'free', reason: 'session_key', windowIndex }
  if (windDownActions.has(r.action) && r.leaseClaimedAt !== undefined) {
    if (r.leaseClaimedAt < blockedSince(s, r.now))
      return { kind: 'free', reason: 'wind_down', windowIndex }
  }
  return d
}

/** The snapshot after a charge is recorded (or held, for a reservation). */
export function applyCharge(
  s: AccountSnapshot,
  d: { voucher: bigint; billable: bigint; windowIndex: number | null },
  now: Micros,
  hold: boolean,
): AccountSnapshot {
  const next = { ...s }
  next.voucher -= d.voucher
  if (next.voucher === 0n && s.voucher > 0n) next.voucherExhaustedAt = now
  if (hold) next.reserved += d.billable
  else next.accrued += d.billable
  if (d.billable > 0n && d.windowIndex !== null) {
    if (d.windowIndex !== next.spendWindow) {
      next.spendWindow = d.windowIndex
      next.spendWindowSpent = 0n
    }
    next.spendWindowSpent += d.billable
  }
  return next
}
