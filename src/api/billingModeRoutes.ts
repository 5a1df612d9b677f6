import { Router } from 'express'
import { setBillingMode } from '../ledger/index.js'
import { authOf } from './auth.js'
import type { AppContext } from './context.js'
import { serve } from './serve.js'

/** `POST /v1/billing/mode`: the owner (or an admin) chooses how the org pays. */
export function billingModeRouter(ctx: AppContext): Router {
  const r = Router()
  serve(ctx, r, 'POST /v1/billing/mode', async (_req, res, { body }) => {
    const m = await setBillingMode(ctx.db, { orgId: authOf(res).orgId, mode: body.mode })
    res.json({ billing_mode: m.mode, previous: m.previous })
  })
  return r
}
