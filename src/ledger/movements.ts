import {
  neverRefusedActions,
  type SubscriptionState,
  windDownActions,
} from '../subscriptions/state/states.js'
import {
  type AccountSnapshot,
  type BillingMode,
  type Budget,
  budgetRefusal,
  countBudgets,
  type Decision,
  decide,
  type MeterRequest,
  uncountBudgets,
} from './decide.js'
import {
  countIncluded,
  countUnits,
  type IncludedState,
  includedLeft,
  uncountIncluded,
  uncountUnits,
  unitsLeft,
} from './included.js'

/**
 * The balances metering moves, as the locked account row holds them. Pure functions below
 * change them in place; the metering transaction, the reservation functions and the
 * model-based test all run the same ones, so what the tests prove is what production does.
 */
export type LedgerState = IncludedState & {
  state: SubscriptionState
  stateChangedAt: bigint
  /** Signup credit on the books (what reservations hold included). */
  voucher: bigint
  reservedVoucher: bigint
  voucherExhaustedAt: bigint | null
  /** The prepaid balance on the books (what reservations hold included); absent: 0. */
  prepaid?: bigint | undefined
  reservedPrepaid?: bigint | undefined
  /** How the org pays; absent: postpaid. */
  mode?: BillingMode | undefined
  accrued: bigint
  reserved: bigint
  booked: bigint
  accruedSince: bigint | null
  allowance: bigint
  monthlyLimit: bigint | null
  windowStart: bigint | null
  windowSeconds: number
  spendWindow: number
  spendWindowSpent: bigint
  /** The org's budgets (its own and its keys'), locked with it; absent: none. */
  budgets?: Budget[] | undefined
}

/**
 * One balance movement, to become a ledger entry (`*_voucher` kinds move `voucher`,
 * `*_included` kinds the plan's included allowance, `*_units` kinds its units of an action —
 * the rate-card value of the units, which cost nothing —, `*_prepaid` kinds `prepaid`, the
 * others `accrued`).
 */
export type Movement = {
  kind:
    | 'usage_units'
    | 'void_units'
    | 'usage_voucher'
    | 'usage_included'
    | 'usage_prepaid'
    | 'usage_billable'
    | 'void_voucher'
    | 'void_included'
    | 'void_prepaid'
    | 'void_billable'
  amount: bigint
}

/**
 * The balance a ledger entry of `kind` moves (charges and refunds move their own; see schema.ts).
 * `included`: the plan's allowance (micro-credits or units), which no entry carries a balance of
 * (docs/plans.md).
 */
export const balanceOf = (kind: string): 'voucher' | 'included' | 'prepaid' | 'accrued' =>
  kind.endsWith('_voucher') || kind === 'voucher_grant'
    ? 'voucher'
    : kind.endsWith('_included') || kind.endsWith('_units')
      ? 'included'
      : kind.endsWith('_prepaid') || kind.startsWith('prepaid_')
        ? 'prepaid'
        : 'accrued'

/**
 * What a usage row holds or recorded: its voucher and billable parts and its window; and, for
 * its budgets, the key it was metered for and when (a hold given back counts off the budget
 * window it was counted in, if that is still the current one).
 */
export type UsageAmounts = {
  voucher: bigint
  /** The part the plan's included allowance paid (or holds); absent: 0. */
  included?: bigint | undefined
  /** The part the prepaid balance paid (or holds); absent: 0. */
  prepaid?: bigint | undefined
  billable: bigint
  windowIndex: number | null
  /** Units of `action` the plan's unit allowance covered (or holds), at `unitPrice` each; absent: 0. */
  units?: number | undefined
  action?: string | undefined
  unitPrice?: bigint | undefined
  keyId?: string | null | undefined
  recordedAt?: bigint | undefined
}

/**
 * Gives back `amount` of a usage's price to the budgets it was counted in, and `included` of
 * it to the plan's month it was drawn from.
 */
function uncountUsage(
  a: LedgerState,
  u: UsageAmounts,
  amount: bigint,
  included: bigint,
  units = 0,
) {
  if (u.recordedAt === undefined) return
  if (a.budgets) uncountBudgets(a.budgets, u.keyId ?? null, amount, u.recordedAt)
  uncountIncluded(a, included, u.recordedAt)
  if (units > 0 && u.action !== undefined) uncountUnits(a, u.action, units, u.recordedAt)
}

/** The ledger movement of `units` of an action at `unitPrice` the plan covered (none when worth 0). */
function unitsMovement(
  movements: Movement[],
  kind: 'usage_units' | 'void_units',
  units: number,
  unitPrice: bigint | undefined,
) {
  const worth = (unitPrice ?? 0n) * BigInt(units)
  if (worth > 0n) movements.push({ kind, amount: kind === 'usage_units' ? -worth : worth })
}

/** The outcome of metering one action on a locked account. */
export type MeterStep =
  | {
      kind: 'refused'
      decision: Extract<Decision, { kind: 'refuse' }>
      movedToNeedsReauth: boolean
    }
  | {
      kind: 'recorded'
      decision: Exclude<Decision, { kind: 'refuse' }>
      amounts: UsageAmounts
      movements: Movement[]
    }

/**
 * The gate's view at `now`: the credit it may spend is what open reservations left, and what is
 * left this month of the plan's allowance (no copy when no hold and no plan change it).
 */
const creditView = (a: LedgerState, now: bigint): LedgerState & { included?: bigint } =>
  a.reservedVoucher === 0n && !a.reservedPrepaid && !a.includedMonthly
    ? a
    : {
        ...a,
        voucher: a.voucher - a.reservedVoucher,
        included: includedLeft(a, now),
        prepaid: (a.prepaid ?? 0n) - (a.reservedPrepaid ?? 0n),
      }

/** The gate's view for `r`: its credit, and the units of `r.action` the plan has left. */
function gateView(a: LedgerState, r: MeterRequest): AccountSnapshot {
  const view = creditView(a, r.now)
  if (!a.includedUnits) return view
  const units = unitsLeft(a, r.action, r.now)
  return units > 0 ? { ...view, units } : view
}

/** Credit the gate may still spend at `now`: voucher, plan and prepaid balance, less what holds keep. */
const creditLeft = (a: LedgerState, now: bigint) =>
  a.voucher -
  a.reservedVoucher +
  includedLeft(a, now) +
  (a.prepaid ?? 0n) -
  (a.reservedPrepaid ?? 0n)

function count(a: LedgerState, amount: bigint, windowIndex: number | null) {
  if (amount <= 0n || windowIndex === null) return
  if (windowIndex !== a.spendWindow) {
    a.spendWindow = windowIndex
    a.spendWindowSpent = 0n
  }
  a.spendWindowSpent += amount
}

/** Gives back a hold's or a voided action's count in the monthly meter, if its window is still current. */
function uncount(a: LedgerState, amount: bigint, windowIndex: number | null) {
  if (amount > 0n && windowIndex !== null && windowIndex === a.spendWindow)
    a.spendWindowSpent -= amount
}

/** What a budget cannot refuse: minting a session key, the wind-down of an earlier lease. */
function budgetExemption(r: MeterRequest, windowIndex: number | null): Decision | null {
  if (neverRefusedActions.has(r.action)) return { kind: 'free', reason: 'session_key', windowIndex }
  if (windDownActions.has(r.action) && r.leaseClaimedAt !== undefined && r.leaseClaimedAt < r.now)
    return { kind: 'free', reason: 'wind_down', windowIndex }
  return null
}

/**
 * Decides one action with the gate and applies it to the locked account: recorded (voucher
 * spent, billable accrued) or, with `hold`, reserved; a refusal that the allowance caused
 * moves an active subscription to `needs_reauth` (the caller records that transition).
 */
export function meterStep(a: LedgerState, r: MeterRequest, p: { hold: boolean }): MeterStep {
  let decision = decide(gateView(a, r), r)
  // The budgets only narrow what the on-chain terms let through, in the same step: a charge
  // that would take a budget of the key (or of the org) past its limit is refused — but
  // minting a session key is never refused, and the wind-down of a lease claimed earlier
  // always goes through (both free, as when the org cannot pay).
  if (decision.kind === 'charge' && a.budgets && a.budgets.length > 0) {
    const cap = budgetRefusal(
      a.budgets,
      r.keyId ?? null,
      decision.voucher + decision.included + decision.prepaid + decision.billable,
      r.now,
    )
    if (cap) decision = budgetExemption(r, decision.windowIndex) ?? cap
  }
  if (decision.kind === 'refuse') {
    const move =
      decision.code === 'BILLING_INACTIVE' && !!decision.transition && a.state === 'active'
    if (move) {
      a.state = 'needs_reauth'
      a.stateChangedAt = r.now
    }
    return { kind: 'refused', decision, movedToNeedsReauth: move }
  }
  const voucher = decision.kind === 'charge' ? decision.voucher : 0n
  const included = decision.kind === 'charge' ? decision.included : 0n
  const prepaid = decision.kind === 'charge' ? decision.prepaid : 0n
  const billable = decision.kind === 'charge' ? decision.billable : 0n
  const units = decision.kind === 'charge' ? (decision.units ?? 0) : 0
  const amounts: UsageAmounts = {
    voucher,
    included,
    prepaid,
    billable,
    windowIndex: decision.windowIndex,
  }
  if (units > 0) amounts.units = units
  count(a, billable, decision.windowIndex)
  const price = voucher + included + prepaid + billable
  if (a.budgets) countBudgets(a.budgets, r.keyId ?? null, price, r.now)
  // A hold draws the plan's month as a recorded action does (given back by commit, void, expiry).
  countIncluded(a, included, r.now)
  countUnits(a, r.action, units, r.now)
  const movements: Movement[] = []
  if (!p.hold) unitsMovement(movements, 'usage_units', units, r.unitPrice)
  if (p.hold) {
    a.reservedVoucher += voucher
    if (prepaid > 0n) a.reservedPrepaid = (a.reservedPrepaid ?? 0n) + prepaid
    a.reserved += billable
  } else {
    if (voucher > 0n) {
      a.voucher -= voucher
      movements.push({ kind: 'usage_voucher', amount: -voucher })
    }
    if (included > 0n) movements.push({ kind: 'usage_included', amount: -included })
    if (prepaid > 0n) {
      a.prepaid = (a.prepaid ?? 0n) - prepaid
      movements.push({ kind: 'usage_prepaid', amount: -prepaid })
    }
    if (billable > 0n) {
      a.accrued += billable
      a.accruedSince ??= r.now
      movements.push({ kind: 'usage_billable', amount: billable })
    }
  }
  if (voucher + included + prepaid > 0n && creditLeft(a, r.now) === 0n) a.voucherExhaustedAt = r.now
  return { kind: 'recorded', decision, amounts, movements }
}

/**
 * Settles a reservation of `held` with `quantity` units at `unitPrice` actually used: the
 * voucher part first, as held; the rest of the hold is released. Never charges more than
 * was held, so a hold the gate let through free stays free.
 */
export function commitHold(
  a: LedgerState,
  held: UsageAmounts,
  p: { unitPrice: bigint; quantity: number; now: bigint },
): { amounts: UsageAmounts; movements: Movement[] } {
  // The units held cover what they can of the quantity used; what they do not is given back.
  const heldUnits = held.units ?? 0
  const units = Math.min(heldUnits, p.quantity)
  // Never more than was held: a free hold (wind-down, a session key while blocked) commits free.
  const used = p.unitPrice * BigInt(p.quantity - units)
  const heldIncluded = held.included ?? 0n
  const heldPrepaid = held.prepaid ?? 0n
  const cap = held.voucher + heldIncluded + heldPrepaid + held.billable
  const total = used < cap ? used : cap
  const take = (left: bigint, part: bigint) => (left < part ? left : part)
  const voucher = take(total, held.voucher)
  const included = take(total - voucher, heldIncluded)
  const prepaid = take(total - voucher - included, heldPrepaid)
  const billable = total - voucher - included - prepaid
  a.reservedVoucher -= held.voucher
  if (heldPrepaid > 0n) a.reservedPrepaid = (a.reservedPrepaid ?? 0n) - heldPrepaid
  a.reserved -= held.billable
  uncount(a, held.billable - billable, held.windowIndex)
  uncountUsage(a, held, cap - total, heldIncluded - included, heldUnits - units)
  const movements: Movement[] = []
  unitsMovement(movements, 'usage_units', units, p.unitPrice)
  if (voucher > 0n) {
    a.voucher -= voucher
    movements.push({ kind: 'usage_voucher', amount: -voucher })
  }
  if (included > 0n) movements.push({ kind: 'usage_included', amount: -included })
  if (prepaid > 0n) {
    a.prepaid = (a.prepaid ?? 0n) - prepaid
    movements.push({ kind: 'usage_prepaid', amount: -prepaid })
  }
  if (billable > 0n) {
    a.accrued += billable
    a.accruedSince ??= p.now
    movements.push({ kind: 'usage_billable', amount: billable })
  }
  const amounts = { ...held, voucher, included, prepaid, billable }
  if (heldUnits > 0) amounts.units = units
  return { amounts, movements }
}

/** Releases a reservation (void or expiry): nothing is charged. */
export function releaseHold(a: LedgerState, held: UsageAmounts): void {
  const prepaid = held.prepaid ?? 0n
  const included = held.included ?? 0n
  a.reservedVoucher -= held.voucher
  if (prepaid > 0n) a.reservedPrepaid = (a.reservedPrepaid ?? 0n) - prepaid
  a.reserved -= held.billable
  uncount(a, held.billable, held.windowIndex)
  uncountUsage(a, held, held.voucher + included + prepaid + held.billable, included, held.units)
}

/**
 * Voids a recorded action whose work failed: its voucher and prepaid parts back, its included
 * part and its units back to the plan's month they were drawn from (if that is still the one
 * counted; the entries are written either way), its billable part off.
 */
export function voidRecorded(a: LedgerState, u: UsageAmounts): Movement[] {
  const movements: Movement[] = []
  const prepaid = u.prepaid ?? 0n
  const included = u.included ?? 0n
  uncountUsage(a, u, u.voucher + included + prepaid + u.billable, included, u.units)
  unitsMovement(movements, 'void_units', u.units ?? 0, u.unitPrice)
  if (u.voucher > 0n) {
    a.voucher += u.voucher
    movements.push({ kind: 'void_voucher', amount: u.voucher })
  }
  if (included > 0n) movements.push({ kind: 'void_included', amount: included })
  if (prepaid > 0n) {
    a.prepaid = (a.prepaid ?? 0n) + prepaid
    movements.push({ kind: 'void_prepaid', amount: prepaid })
  }
  if (u.billable > 0n) {
    a.accrued -= u.billable
    uncount(a, u.billable, u.windowIndex)
    movements.push({ kind: 'void_billable', amount: -u.billable })
  }
  return movements
}
