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
}

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

/** Counts `amount` drawn at `now` (a recorded action or a hold) in the current month, in place. */
export function countIncluded(s: IncludedState, amount: bigint, now: Micros): void {
  if (amount <= 0n) return
  const start = includedWindowAt(now)
  if (s.includedWindowStart !== start) {
    s.includedWindowStart = start
    s.includedUsed = 0n
  }
  s.includedUsed = (s.includedUsed ?? 0n) + amount
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
