// The plan's line — "$0.40 of $1.00 used, renews 1 Jan" — the one rendering of a plan, for the
// dashboard, the manage page and the MCP billing tools alike (docs/plans.md). Money comes as
// the API formats it (`planView`: micro-credits and formatUsd's dollars), never reformatted.

/** Micro-credits as a decimal string and the same in dollars, as the API shows money. */
export type PlanMoney = { micros: string; usd: string }

/** An org's plan as the API shows it (`planView`, `GET /v1/billing`'s `plan`). */
export type PlanJson = {
  included_monthly: PlanMoney
  used: PlanMoney
  remaining: PlanMoney
  window_start: string
  renews_at: string
}

/**
 * The plan's line in parts: text, and money for the page to show with its exact micro-credits
 * (the MCP tools join the dollars: `planText`).
 *
 * @example
 * planLine(plan) // [{ usd: '$0.40', … }, ' of ', { usd: '$1.00', … }, ' used, renews 1 Jan']
 */
export function planLine(plan: PlanJson): (string | PlanMoney)[] {
  const renews = new Date(plan.renews_at)
  const month = renews.toLocaleString('en', { month: 'short', timeZone: 'UTC' })
  return [plan.used, ' of ', plan.included_monthly, ` used, renews ${renews.getUTCDate()} ${month}`]
}

/** The plan's line as text: "$0.40 of $1.00 used, renews 1 Jan". */
export const planText = (plan: PlanJson): string =>
  planLine(plan)
    .map((p) => (typeof p === 'string' ? p : p.usd))
    .join('')
