import { Router } from 'express'
import { rfc3339 } from '../db/rfc3339.js'
import { type BudgetView, clearBudget, formatUsd, setBudget, showBudgets } from '../ledger/index.js'
import { authOf } from './auth.js'
import type { AppContext } from './context.js'
import { serve } from './serve.js'

const money = (v: bigint) => ({ micros: v.toString(), usd: formatUsd(v) })

/** How the API shows a budget. */
export const budgetView = (b: BudgetView) => ({
  scope: b.keyId === null ? ('org' as const) : ('key' as const),
  key_id: b.keyId,
  period: b.period,
  limit: money(b.limitMicros),
  override: b.override && {
    limit: money(b.override.limitMicros),
    until: rfc3339(b.override.until),
  },
  effective_limit: money(b.effectiveMicros),
  spent: money(b.spentMicros),
  remaining: money(b.remainingMicros),
  window_start: rfc3339(b.windowStart),
  resets_at: rfc3339(b.resetsAt),
})

/**
 * Spend budgets per API key and per org (`GET` for any member, so an agent can see its own;
 * setting and clearing for owners and admins). The meter enforces them as it records.
 */
export function budgetRouter(ctx: AppContext): Router {
  const r = Router()
  serve(ctx, r, 'GET /v1/budgets', async (_req, res) => {
    const list = await showBudgets(ctx.db, { orgId: authOf(res).orgId })
    res.json({ budgets: list.map(budgetView) })
  })
  serve(ctx, r, 'POST /v1/budgets', async (_req, res, { body }) => {
    const auth = authOf(res)
    const b = await setBudget(ctx.db, {
      orgId: auth.orgId,
      keyId: body.key_id ?? null,
      period: body.period,
      limitMicros: BigInt(body.limit_micros),
      override:
        body.override === undefined
          ? undefined
          : body.override && {
              limitMicros: BigInt(body.override.limit_micros),
              until: new Date(body.override.until),
            },
      by: auth.address ?? auth.credential,
    })
    res.status(200).json({ budget: budgetView(b) })
  })
  serve(ctx, r, 'DELETE /v1/budgets/{scope}/{period}', async (_req, res, { params }) => {
    const removed = await clearBudget(ctx.db, {
      orgId: authOf(res).orgId,
      keyId: params.scope === 'org' ? null : params.scope,
      period: params.period,
    })
    res.json({ removed })
  })
  return r
}
