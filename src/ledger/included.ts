import { budgetWindowEnd, budgetWindowStart, type Micros } from './decide.js'

/**
 * An org's included monthly allowance (its plan), as its locked account holds it: `monthly`
 * micro-credits a UTC calendar month (null: no plan), and what usage drew of it (`used`, holds
 * included) in the month starting at `windowStart`. A later month starts from 0, lazily, on its
 * first use: nothing has to run at the turn of the month (docs/plans.md).
 */
export type IncludedState = {
  includedMonthly?: bigint | null | undefined
  includedWindowStart?: Micros | null | undefined
  includedUsed?: bigint | undefined
  /** Units of named actions included each month (`{ search: 1000 }`); null or absent: none. */
  includedUnits?: UnitCounts | null | undefined
  /**
   * Units of each action drawn (holds included) in the same month as `includedUsed`; replaced,
   * never changed in place (a cached account may share it).
   */
  includedUnitsUsed?: UnitCounts | null | undefined
}

/** Units per rate-card action. */
export type UnitCounts = Readonly<Record<string, number>>

/** Where the UTC calendar month that `now` falls in starts: the included allowance's window. */
export const includedWindowAt = (now: Micros): Micros => budgetWindowStart('month', now)

/** When the included allowance's window that `now` falls in ends (it renews then). */
export const includedRenewsAt = (now: Micros): Micros =>
  budgetWindowEnd('month', includedWindowAt(now))

/** What the plan's allowance drew in the month `now` falls in. */
export const includedUsedAt = (s: IncludedState, now: Micros): bigint =>
  s.includedWindowStart === includedWindowAt(now) ? (s.includedUsed ?? 0n) : 0n

/** What is left of the included allowance at `now` (0 without a plan). */
export function includedLeft(s: IncludedState, now: Micros): bigint {
  if (s.includedMonthly === null || s.includedMonthly === undefined) return 0n
  const left = s.includedMonthly - includedUsedAt(s, now)
  return left > 0n ? left : 0n
}

/** Starts the month `now` falls in from 0 (micro-credits and units alike) unless it is the one counted. */
function enterMonth(s: IncludedState, now: Micros): void {
  const start = includedWindowAt(now)
  if (s.includedWindowStart === start) return
  s.includedWindowStart = start
  s.includedUsed = 0n
  if (s.includedUnitsUsed) s.includedUnitsUsed = null
}

/** Counts `amount` drawn at `now` (a recorded action or a hold) in the current month, in place. */
export function countIncluded(s: IncludedState, amount: bigint, now: Micros): void {
  if (amount <= 0n) return
  enterMonth(s, now)
  s.includedUsed = (s.includedUsed ?? 0n) + amount
}

/** Units of `action` the plan's month that `now` falls in drew. */
export const unitsUsedAt = (s: IncludedState, action: string, now: Micros): number =>
  s.includedWindowStart === includedWindowAt(now) ? (s.includedUnitsUsed?.[action] ?? 0) : 0

/** Units of `action` left at `now` (0 when the plan includes none of it). */
export function unitsLeft(s: IncludedState, action: string, now: Micros): number {
  const monthly = s.includedUnits?.[action]
  if (monthly === undefined) return 0
  const left = monthly - unitsUsedAt(s, action, now)
  return Math.max(left, 0)
}

/** Counts `units` of `action` drawn at `now` in the current month (a new counts object). */
export function countUnits(s: IncludedState, action: string, units: number, now: Micros): void {
  if (units <= 0) return
  enterMonth(s, now)
  const used = s.includedUnitsUsed ?? {}
  s.includedUnitsUsed = { ...used, [action]: (used[action] ?? 0) + units }
}

/** Gives back `units` of `action` drawn at `at`, to that month if it is still the one counted. */
export function uncountUnits(s: IncludedState, action: string, units: number, at: Micros): void {
  if (units <= 0 || s.includedWindowStart !== includedWindowAt(at)) return
  const used = s.includedUnitsUsed ?? {}
  const n = used[action] ?? 0
  s.includedUnitsUsed = { ...used, [action]: n > units ? n - units : 0 }
}

/**
 * Gives back `amount` drawn by usage recorded at `at` (a hold released, a void): to the month it
 * was drawn from, if that is still the one counted — a later month owes it nothing.
 */
export function uncountIncluded(s: IncludedState, amount: bigint, at: Micros): void {
  if (amount <= 0n || s.includedWindowStart !== includedWindowAt(at)) return
  const used = s.includedUsed ?? 0n
  s.includedUsed = used > amount ? used - amount : 0n
}
