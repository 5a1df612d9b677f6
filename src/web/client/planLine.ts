// The plan's line — "$0.40 of $1.00 used, renews 1 Jan" — the one rendering of a plan, for the
// dashboard, the manage page and the MCP billing tools alike (docs/plans.md). Money comes as
// the API formats it (`planView`: micro-credits and formatUsd's dollars), never reformatted.

/** Micro-credits as a decimal string and the same in dollars, as the API shows money. */
export type PlanMoney = { micros: string; usd: string }

/** An org's plan as the API shows it (`planView`, `GET /v1/billing`'s `plan`). */
export type PlanJson = {
  /** Null for a plan of units only. */
  included_monthly: PlanMoney | null
  used: PlanMoney
  remaining: PlanMoney
  window_start: string
  renews_at: string
  /** Units of each named action included a month, and what this month drew. */
  included_actions: Record<string, { included: number; used: number; remaining: number }>
}

/**
 * The plan's line in parts: text, and money for the page to show with its exact micro-credits
 * (the MCP tools join the dollars: `planText`).
 *
 * @example
 * planLine(plan) // [{ usd: '$0.40', … }, ' of ', { usd: '$1.00', … }, ' used, renews 1 Jan']
 * // with units: [{ usd: '$0.40', … }, ' of ', { usd: '$1.00', … }, ', search 12 of 1000', ' used, renews 1 Jan']
 */
export function planLine(plan: PlanJson): (string | PlanMoney)[] {
  const renews = new Date(plan.renews_at)
  const month = renews.toLocaleString('en', { month: 'short', timeZone: 'UTC' })
  const parts: (string | PlanMoney)[] = []
  if (plan.included_monthly) parts.push(plan.used, ' of ', plan.included_monthly)
  for (const [action, u] of Object.entries(plan.included_actions ?? {}))
    parts.push(`${parts.length > 0 ? ', ' : ''}${action} ${u.used} of ${u.included}`)
  return [...parts, ` used, renews ${renews.getUTCDate()} ${month}`]
}

/** The plan's line as text: "$0.40 of $1.00 used, renews 1 Jan" (", search 12 of 1000" with units). */
export const planText = (plan: PlanJson): string =>
  planLine(plan)
    .map((p) => (typeof p === 'string' ? p : p.usd))
    .join('')
