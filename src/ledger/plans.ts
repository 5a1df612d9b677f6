import { ValidationError } from '../core/errors.js'
import type { Db } from '../db/client.js'
import { type LockedAccount, lockAccount, lockAccounts } from './accounts.js'
import type { Micros } from './decide.js'
import { NoBillingAccountError } from './errors.js'
import { includedLeft, includedRenewsAt, includedUsedAt, includedWindowAt } from './included.js'
import { nowMicros } from './sql.js'

/** Most an included allowance may be: $1,000,000,000 a month in micro-credits (well inside int8). */
const MAX_MICROS = 1_000_000_000_000_000n

/** What an org's plan includes this month, as the owner and the operator see it. */
export type PlanView = {
  /** Micro-credits included each UTC calendar month; null: no plan. */
  includedMonthlyMicros: bigint | null
  /** What usage (open holds included) drew of it this month. */
  usedMicros: bigint
  remainingMicros: bigint
  /** The month counted: from its first instant to the next month's, when it renews. */
  windowStart: Date
  renewsAt: Date
}

const dateOf = (m: Micros) => new Date(Number(m / 1000n))

/** `a`'s plan at `now`. */
export function planViewOf(a: LockedAccount, now: Micros): PlanView {
  const monthly = a.includedMonthly ?? null
  return {
    includedMonthlyMicros: monthly,
    usedMicros: monthly === null ? 0n : includedUsedAt(a, now),
    remainingMicros: includedLeft(a, now),
    windowStart: dateOf(includedWindowAt(now)),
    renewsAt: dateOf(includedRenewsAt(now)),
  }
}

export type SetPlanParameters = {
  orgId: string
  /** Micro-credits included each UTC calendar month; null removes the plan. */
  includedMonthlyMicros: bigint | null
  /** The clock, microseconds since the epoch. */
  now?: Micros
}

/**
 * Sets (or removes) an org's included monthly allowance, under the account's lock, so no
 * metering batch decides half under each; the row's version changes, so every cached copy of
 * the account goes stale. What this month already drew stays drawn: a plan raised mid-month
 * has the difference left, one lowered below it has nothing left until the month renews.
 *
 * @example
 * await setPlan(db, { orgId, includedMonthlyMicros: 1_000_000n }) // $1 a month included
 */
export async function setPlan(db: Db, p: SetPlanParameters): Promise<PlanView> {
  const monthly = p.includedMonthlyMicros
  if (monthly !== null && (monthly < 0n || monthly > MAX_MICROS))
    throw new ValidationError(`included_monthly_micros must be between 0 and ${MAX_MICROS}`)
  const now = p.now ?? nowMicros()
  return await db.$client.begin(async (tx) => {
    const account = await lockAccount(tx, p.orgId)
    await tx`update billing_accounts set included_monthly = ${monthly === null ? null : monthly.toString()},
      updated_at = clock_timestamp() where org_id = ${p.orgId}`
    return planViewOf({ ...account, includedMonthly: monthly }, now)
  })
}

/** An org's plan as it stands at `now` (no lock). */
export async function showPlan(db: Db, p: { orgId: string; now?: Micros }): Promise<PlanView> {
  const a = (await lockAccounts(db.$client, [p.orgId], { lock: false })).get(p.orgId)
  if (!a) throw new NoBillingAccountError(p.orgId)
  return planViewOf(a, p.now ?? nowMicros())
}
