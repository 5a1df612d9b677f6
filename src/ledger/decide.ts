import type { SubscriptionState } from '../subscriptions/state/states.js'
import { neverRefusedActions, windDownActions } from '../subscriptions/state/states.js'

/** Microseconds since the epoch: the ledger's clock unit, exact at window boundaries. */
export type Micros = bigint

/** What the gate needs to know about an org, as locked in the metering transaction. */
export type AccountSnapshot = {
  state: SubscriptionState
  stateChangedAt: Micros
  voucher: bigint
  /**
   * When the org's credit (voucher and prepaid balance, what holds leave of them) ran out:
   * a pending or prepaid org is blocked from then on.
   */
  voucherExhaustedAt: Micros | null
  /** The prepaid balance the gate may spend (what open reservations leave of it); absent: 0. */
  prepaid?: bigint | undefined
  /** What is left this month of the plan's included allowance (`includedLeft`); absent: 0. */
  included?: bigint | undefined
  /** Units of the requested action the plan has left this month (`unitsLeft`); absent: 0. */
  units?: number | undefined
  /** `prepaid`: usage is paid before it happens, never billable; absent: postpaid. */
  mode?: BillingMode | undefined
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
  /** The API key the action is metered for (its budgets apply); null or absent: none. */
  keyId?: string | null | undefined
}

/** How an org pays: usage billed after it happens (the default), or drawn from a balance paid before. */
export type BillingMode = 'postpaid' | 'prepaid'

export type Decision =
  | {
      kind: 'charge'
      voucher: bigint
      /** The part the plan's included allowance pays (after the voucher, before the balance). */
      included: bigint
      /** The part the prepaid balance pays. */
      prepaid: bigint
      billable: bigint
      windowIndex: number | null
      /** Units of the action the plan's unit allowance covers (they cost nothing); absent: 0. */
      units?: number
    }
  | { kind: 'free'; reason: 'wind_down' | 'session_key'; windowIndex: number | null }
  | {
      kind: 'refuse'
      code: 'BILLING_INACTIVE'
      reason: 'inactive' | 'no_credit'
      /** Set when this refusal is what moves the subscription (allowance ran out). */
      transition?: 'needs_reauth'
    }
  | SpendCap

/**
 * A spend cap reached: the signed on-chain window's monthly limit (`onchain_window`), or a
 * budget the owner set on an API key (`key`) or on the whole org (`org`).
 */
export type SpendCap = {
  kind: 'refuse'
  code: 'SPEND_CAP_REACHED'
  scope: 'key' | 'org' | 'onchain_window'
  /** A budget's period (null for the on-chain window). */
  period: BudgetPeriod | null
  limit: bigint
  spent: bigint
  /** When the window the cap counts in ends (null: an on-chain window not yet started). */
  resetsAt: Micros | null
  /** A budget's: which one, and the start of the window it is reached in (`budget.reached`). */
  budget?: { id: bigint; keyId: string | null; windowStart: Micros }
}

/** A budget's fixed UTC calendar window: a day, an ISO week (from Monday) or a month. */
export type BudgetPeriod = 'day' | 'week' | 'month'

/**
 * A spend budget as the metering transaction holds it (row `budgets`, locked with its org):
 * the price of metered actions (voucher part included) counted in its current window, capped
 * at its limit — or at its override while that lasts. `keyId` null: the org's, every key's
 * usage counts; else only that key's (its session keys' included).
 */
export type Budget = {
  id: bigint
  keyId: string | null
  period: BudgetPeriod
  limit: bigint
  /** A temporary limit, in force until `overrideUntil`, then the limit again by itself. */
  override: bigint | null
  overrideUntil: Micros | null
  /** The window `spent` counts in (a later window starts from 0). */
  windowStart: Micros
  spent: bigint
  /** Set when the metering transaction changed it and must write it back. */
  dirty?: boolean
}

const DAY = 86_400_000_000n

/** Where the UTC calendar `period` that `now` falls in starts. */
export function budgetWindowStart(period: BudgetPeriod, now: Micros): Micros {
  const day = now >= 0n ? now / DAY : (now - DAY + 1n) / DAY
  if (period === 'day') return day * DAY
  // 1970-01-01 was a Thursday: day 0 is 3 days after a Monday.
  if (period === 'week') return (day - ((((day + 3n) % 7n) + 7n) % 7n)) * DAY
  const d = new Date(Number((day * DAY) / 1000n))
  return BigInt(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)) * 1000n
}

/** Where the UTC calendar `period` after the one starting at `start` starts. */
export function budgetWindowEnd(period: BudgetPeriod, start: Micros): Micros {
  if (period === 'day') return start + DAY
  if (period === 'week') return start + 7n * DAY
  const d = new Date(Number(start / 1000n))
  return BigInt(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)) * 1000n
}

/** A budget's limit at `now`: its override while that lasts, else its limit. */
export const budgetLimitAt = (b: Budget, now: Micros): bigint =>
  b.override !== null && b.overrideUntil !== null && now < b.overrideUntil ? b.override : b.limit

/** What a budget counted in the window `now` falls in. */
export const budgetSpentAt = (b: Budget, now: Micros): bigint =>
  b.windowStart === budgetWindowStart(b.period, now) ? b.spent : 0n

/** Whether usage of `keyId` counts against `b`. */
const applies = (b: Budget, keyId: string | null) => b.keyId === null || b.keyId === keyId

/**
 * The first budget (the key's before the org's) that `amount` more of `keyId`'s usage would
 * take past its limit at `now`, as a refusal; null when every budget has room. Nothing is
 * counted here (`countBudgets` does, once the action is recorded).
 */
export function budgetRefusal(
  budgets: readonly Budget[],
  keyId: string | null,
  amount: bigint,
  now: Micros,
): SpendCap | null {
  if (amount <= 0n) return null
  let refusal: SpendCap | null = null
  for (const b of budgets) {
    if (!applies(b, keyId)) continue
    const limit = budgetLimitAt(b, now)
    const spent = budgetSpentAt(b, now)
    if (spent + amount <= limit) continue
    const scope = b.keyId === null ? 'org' : 'key'
    if (refusal && (refusal.scope === 'key' || scope === 'org')) continue
    const start = budgetWindowStart(b.period, now)
    refusal = {
      kind: 'refuse',
      code: 'SPEND_CAP_REACHED',
      scope,
      period: b.period,
      limit,
      spent,
      resetsAt: budgetWindowEnd(b.period, start),
      budget: { id: b.id, keyId: b.keyId, windowStart: start },
    }
  }
  return refusal
}

/** Counts `amount` of `keyId`'s usage at `now` in every budget it applies to (in place). */
export function countBudgets(
  budgets: readonly Budget[],
  keyId: string | null,
  amount: bigint,
  now: Micros,
): void {
  if (amount <= 0n) return
  for (const b of budgets) {
    if (!applies(b, keyId)) continue
    const start = budgetWindowStart(b.period, now)
    if (b.windowStart !== start) {
      b.windowStart = start
      b.spent = 0n
    }
    b.spent += amount
    b.dirty = true
  }
}

/**
 * Gives back `amount` of `keyId`'s usage recorded at `at` (a hold released, a void) in every
 * budget it applies to whose window is still the one it was counted in.
 */
export function uncountBudgets(
  budgets: readonly Budget[],
  keyId: string | null,
  amount: bigint,
  at: Micros,
): void {
  if (amount <= 0n) return
  for (const b of budgets) {
    if (!applies(b, keyId) || b.windowStart !== budgetWindowStart(b.period, at)) continue
    b.spent = b.spent > amount ? b.spent - amount : 0n
    b.dirty = true
  }
}

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

function payable(s: AccountSnapshot, r: MeterRequest): Decision {
  const now = r.now
  const windowIndex = windowIndexAt(s.windowStart, s.windowSeconds, now)
  // The signup voucher is spent while the subscription is in good standing (pending, active)
  // or by a prepaid org; the prepaid balance is money already paid, spent whatever the state.
  const voucherUsable = s.mode === 'prepaid' || s.state === 'pending' || s.state === 'active'
  // The plan's units of this very action come first, on the voucher's terms (they can pay for
  // nothing else); the units they cover cost nothing, the rest is priced as usual.
  const unitsLeft = voucherUsable ? (s.units ?? 0) : 0
  const units = Math.min(unitsLeft, r.quantity)
  const total = r.unitPrice * BigInt(r.quantity - units)
  const covered = units > 0 ? { units } : {}
  // The plan's included allowance is spent on the same terms, right after the voucher.
  const voucher = !voucherUsable ? 0n : s.voucher < total ? s.voucher : total
  const plan = voucherUsable ? (s.included ?? 0n) : 0n
  const included = plan < total - voucher ? plan : total - voucher
  const balance = s.prepaid ?? 0n
  const rest = total - voucher - included
  const prepaid = balance < rest ? balance : rest
  const billable = rest - prepaid
  if (billable === 0n && (voucherUsable || prepaid > 0n))
    return { kind: 'charge', voucher, included, prepaid, billable, windowIndex, ...covered }
  if (s.mode === 'prepaid') return { kind: 'refuse', code: 'BILLING_INACTIVE', reason: 'no_credit' }
  switch (s.state) {
    case 'pending':
      return { kind: 'refuse', code: 'BILLING_INACTIVE', reason: 'no_credit' }
    case 'active': {
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
        const w = room.windowIndex
        return {
          kind: 'refuse',
          code: 'SPEND_CAP_REACHED',
          scope: 'onchain_window',
          period: null,
          limit: s.monthlyLimit!,
          spent: countedInWindow(s, w),
          resetsAt:
            s.windowStart === null || w === null
              ? null
              : s.windowStart + BigInt(w + 1) * BigInt(s.windowSeconds) * 1_000_000n,
        }
      }
      return { kind: 'charge', voucher, included, prepaid, billable, windowIndex, ...covered }
    }
    default:
      return { kind: 'refuse', code: 'BILLING_INACTIVE', reason: 'inactive' }
  }
}

/** When the org stopped being able to pay, for the wind-down rule. */
function blockedSince(s: AccountSnapshot, now: Micros): Micros {
  if (s.mode === 'prepaid' || s.state === 'pending') return s.voucherExhaustedAt ?? now
  if (s.state === 'active') return now
  return s.stateChangedAt
}

/**
 * The gate: decides one metered action against an org's locked snapshot. Pure, so the
 * metering transaction, the unit tests and the model-based test all run the same rules.
 *
 * - the plan's units of the action first (the units they cover cost nothing), on the voucher's
 *   terms; then credit: the voucher (pending, active, or a prepaid org), then on the same terms the
 *   plan's included allowance, then the prepaid balance (in every state: it is paid already);
 *   an action credit covers goes through;
 * - prepaid mode: nothing is billable — what credit does not cover is `no_credit`;
 * - pending: only what credit fully covers, else `no_credit`;
 * - active: credit first (split), the rest within min(allowance headroom, monthly headroom);
 *   not fitting the allowance moves the subscription to needs_reauth, not fitting the monthly
 *   limit is `SPEND_CAP_REACHED` and the state stays;
 * - needs_reauth, lapsed, canceled: what the prepaid balance covers, else `inactive`;
 * - `mint_session_key` is never refused (free while the org cannot pay); lease wind-down is
 *   free for a lease claimed before the block, refused for one claimed after.
 */
export function decide(s: AccountSnapshot, r: MeterRequest): Decision {
  const d = payable(s, r)
  if (d.kind !== 'refuse') return d
  const windowIndex = windowIndexAt(s.windowStart, s.windowSeconds, r.now)
  if (neverRefusedActions.has(r.action)) return { kind: 'free', reason: 'session_key', windowIndex }
  if (windDownActions.has(r.action) && r.leaseClaimedAt !== undefined) {
    if (r.leaseClaimedAt < blockedSince(s, r.now))
      return { kind: 'free', reason: 'wind_down', windowIndex }
  }
  return d
}
