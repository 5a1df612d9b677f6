import { Router } from 'express'
import { ValidationError } from '../core/errors.js'
import {
  clearAutoTopUp,
  formatUsd,
  readAutoTopUp,
  requestTopUp,
  setAutoTopUp,
  type TopUp,
} from '../ledger/index.js'
import { authOf } from './auth.js'
import type { AppContext } from './context.js'
import { idempotencyKeyOf } from './idempotency.js'
import { serve } from './serve.js'

const money = (v: bigint) => ({ micros: v.toString(), usd: formatUsd(v) })

/** How the API shows a top-up. */
const topUpView = (t: TopUp) => ({
  id: t.id,
  amount: money(t.amount),
  bonus: money(t.bonus),
  status: t.status,
  failure_reason: t.failureReason,
  tx_hash: t.txHash,
  auto: t.auto,
  created_at: t.createdAt,
  updated_at: t.updatedAt,
})

/**
 * Prepaid top-ups (owner/admin): `POST /v1/billing/top-ups` books "buy $X now" (pulled by
 * settlement through the collector with the owner's permit; a retry with the same
 * `Idempotency-Key` returns the first top-up), and `POST`/`DELETE /v1/billing/auto-top-up`
 * set or clear the auto top-up. Both show in `GET /v1/billing` (`top_up`).
 */
export function topUpRouter(ctx: AppContext): Router {
  const r = Router()
  serve(ctx, r, 'POST /v1/billing/top-ups', async (req, res, { body }) => {
    const key = idempotencyKeyOf(req)
    if (key === undefined)
      throw new ValidationError('a top-up needs an Idempotency-Key header (a retry is then safe)')
    const { topUp, replayed } = await requestTopUp(ctx.db, {
      orgId: authOf(res).orgId,
      amount: BigInt(body.amount_micros),
      idempotencyKey: key,
      packages: ctx.config.billing.prepaidPackages,
    })
    res.status(replayed ? 200 : 202).json({ top_up: topUpView(topUp), packages: packagesView(ctx) })
  })
  serve(ctx, r, 'POST /v1/billing/auto-top-up', async (_req, res, { body }) => {
    const a = authOf(res)
    const set = await setAutoTopUp(ctx.db, {
      orgId: a.orgId,
      threshold: BigInt(body.threshold_micros),
      amount: BigInt(body.amount_micros),
      by: a.address ?? a.keyId ?? 'api',
    })
    res.json({ auto_top_up: { threshold: money(set.threshold), amount: money(set.amount) } })
  })
  serve(ctx, r, 'DELETE /v1/billing/auto-top-up', async (_req, res) => {
    const removed = await clearAutoTopUp(ctx.db, { orgId: authOf(res).orgId })
    res.json({ removed })
  })
  return r
}

/** The operator's packages as the API shows them: pay `price`, get `bonus` more credit. */
const packagesView = (ctx: AppContext) =>
  ctx.config.billing.prepaidPackages.map((p) => ({ price: money(p.price), bonus: money(p.bonus) }))

/**
 * The `top_up` part of `GET /v1/billing`: the auto top-up, the last top-up, if any, and the
 * packages a top-up may buy.
 */
export async function topUpSummary(ctx: AppContext, orgId: string, last: TopUp | undefined) {
  const auto = await readAutoTopUp(ctx.db, { orgId })
  return {
    auto: auto && { threshold: money(auto.threshold), amount: money(auto.amount) },
    last: last ? topUpView(last) : null,
    packages: packagesView(ctx),
  }
}
