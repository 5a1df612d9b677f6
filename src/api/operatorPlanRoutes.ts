import { Router } from 'express'
import { rfc3339 } from '../db/rfc3339.js'
import { formatUsd, type PlanView, setPlan, showPlan } from '../ledger/index.js'
import type { AppContext } from './context.js'
import { serve } from './serve.js'

const money = (v: bigint) => ({ micros: v.toString(), usd: formatUsd(v) })

/** How the API shows an org's plan (null: it has none). */
export const planView = (p: PlanView) =>
  p.includedMonthlyMicros === null && p.units.length === 0
    ? null
    : {
        // Null for a plan of units only.
        included_monthly: p.includedMonthlyMicros === null ? null : money(p.includedMonthlyMicros),
        used: money(p.usedMicros),
        remaining: money(p.remainingMicros),
        window_start: rfc3339(p.windowStart),
        renews_at: rfc3339(p.renewsAt),
        included_actions: Object.fromEntries(
          p.units.map((u) => [
            u.action,
            {
              included: u.included,
              used: u.used,
              remaining: u.remaining,
              renews_at: rfc3339(p.renewsAt),
            },
          ]),
        ),
      }

/**
 * An org's plan, set by the operator (its `OPERATOR_API_TOKEN`, never an org credential: the
 * org is the one it benefits): the monthly allowance usage draws after the voucher, before
 * anything is paid for (docs/plans.md). The owner sees it in `GET /v1/billing`.
 */
export function operatorPlanRouter(ctx: AppContext): Router {
  const r = Router()
  serve(ctx, r, 'GET /v1/operator/orgs/{id}/plan', async (_req, res, { params: { id: orgId } }) => {
    res.json({ org_id: orgId, plan: planView(await showPlan(ctx.db, { orgId })) })
  })
  serve(ctx, r, 'POST /v1/operator/orgs/{id}/plan', async (_req, res, { params, body }) => {
    const orgId = params.id
    const monthly = body.included_monthly_micros ?? null
    const p = await setPlan(ctx.db, {
      orgId,
      includedMonthlyMicros: monthly === null ? null : BigInt(monthly),
      includedActions: body.included_actions ?? null,
      rateCard: ctx.config.rateCard,
    })
    res.json({ org_id: orgId, plan: planView(p) })
  })
  return r
}
