import { ValidationError } from '../core/errors.js'
import type { Db } from '../db/client.js'
import { type LockedAccount, lockAccount, lockAccounts } from './accounts.js'
import type { Micros } from './decide.js'
import { NoBillingAccountError, UnknownActionError } from './errors.js'
import {
  includedLeft,
  includedRenewsAt,
  includedUsedAt,
  includedWindowAt,
  type UnitCounts,
  unitsLeft,
  unitsUsedAt,
} from './included.js'
import { type RateCard, unitPrice } from './rateCard.js'
import { nowMicros } from './sql.js'

/** Most an included allowance may be: $1,000,000,000 a month in micro-credits (well inside int8). */
const MAX_MICROS = 1_000_000_000_000_000n

/** Most units of one action a plan may include a month, and most actions it may name. */
const MAX_UNITS = 1_000_000_000
const MAX_ACTIONS = 100

/** Units of one action a plan includes each month, and what this month drew of them. */
export type PlanUnitsView = { action: string; included: number; used: number; remaining: number }

/** What an org's plan includes this month, as the owner and the operator see it. */
export type PlanView = {
  /** Micro-credits included each UTC calendar month; null: no plan. */
  includedMonthlyMicros: bigint | null
  /** What usage (open holds included) drew of it this month. */
  usedMicros: bigint
  remainingMicros: bigint
  /** Units of named actions included each month (by action name); empty: none. */
  units: PlanUnitsView[]
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
    units: Object.entries(a.includedUnits ?? {})
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([action, included]) => ({
        action,
        included,
        used: unitsUsedAt(a, action, now),
        remaining: unitsLeft(a, action, now),
      })),
    windowStart: dateOf(includedWindowAt(now)),
    renewsAt: dateOf(includedRenewsAt(now)),
  }
}

export type SetPlanParameters = {
  orgId: string
  /** Micro-credits included each UTC calendar month; null removes the plan. */
  includedMonthlyMicros: bigint | null
  /** Units of rate-card actions included each month (`{ search: 1000 }`); null or absent: none. */
  includedActions?: UnitCounts | null | undefined
  /** The rate card the actions must be priced in (a plan naming any other is refused). */
  rateCard?: RateCard | undefined
  /** The clock, microseconds since the epoch. */
  now?: Micros
}

/**
 * Sets (or removes) an org's included monthly allowance, under the account's lock, so no
 * metering batch decides half under each; the row's version changes, so every cached copy of
 * the account goes stale. What this month already drew stays drawn: a plan raised mid-month
 * has the difference left, one lowered below it has nothing left until the month renews (units
 * of an action alike). The plan set is the whole plan: what it does not name it no longer includes.
 *
 * @example
 * // $1 a month included, and 1,000 `search` calls
 * await setPlan(db, { orgId, includedMonthlyMicros: 1_000_000n, includedActions: { search: 1000 }, rateCard })
 */
export async function setPlan(db: Db, p: SetPlanParameters): Promise<PlanView> {
  const monthly = p.includedMonthlyMicros
  if (monthly !== null && (monthly < 0n || monthly > MAX_MICROS))
    throw new ValidationError(`included_monthly_micros must be between 0 and ${MAX_MICROS}`)
  const units = planUnits(p.includedActions, p.rateCard)
  const now = p.now ?? nowMicros()
  return await db.$client.begin(async (tx) => {
    const account = await lockAccount(tx, p.orgId)
    await tx`update billing_accounts set included_monthly = ${monthly === null ? null : monthly.toString()},
      included_units = ${units === null ? null : JSON.stringify(units)}::jsonb,
      updated_at = clock_timestamp() where org_id = ${p.orgId}`
    return planViewOf({ ...account, includedMonthly: monthly, includedUnits: units }, now)
  })
}

/** A plan's units per action, checked: each a rate-card action, 0 to `MAX_UNITS` (null: none). */
function planUnits(
  actions: UnitCounts | null | undefined,
  card: RateCard | undefined,
): UnitCounts | null {
  const entries = Object.entries(actions ?? {})
  if (entries.length === 0) return null
  if (!card) throw new Error('setPlan: a plan with included actions needs the rate card')
  if (entries.length > MAX_ACTIONS)
    throw new ValidationError(`included_actions may name at most ${MAX_ACTIONS} actions`)
  for (const [action, n] of entries) {
    if (unitPrice(card, action) === undefined) throw new UnknownActionError(action)
    if (!Number.isSafeInteger(n) || n < 0 || n > MAX_UNITS)
      throw new ValidationError(
        `included_actions.${action} must be a whole number from 0 to ${MAX_UNITS}`,
      )
  }
  return Object.fromEntries(entries)
}

/** An org's plan as it stands at `now` (no lock). */
export async function showPlan(db: Db, p: { orgId: string; now?: Micros }): Promise<PlanView> {
  const a = (await lockAccounts(db.$client, [p.orgId], { lock: false })).get(p.orgId)
  if (!a) throw new NoBillingAccountError(p.orgId)
  return planViewOf(a, p.now ?? nowMicros())
}
