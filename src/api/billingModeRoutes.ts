import { Router } from 'express'
import { setBillingMode } from '../ledger/index.js'
import { authOf, requireOwner } from './auth.js'
import type { AppContext } from './context.js'
import { billingModeBody } from './schemas/billingModeSchemas.js'

/** `POST /v1/billing/mode`: the owner (or an admin) chooses how the org pays. */
export function billingModeRouter(ctx: AppContext): Router {
  const r = Router()
  r.post('/billing/mode', requireOwner, async (req, res) => {
    const body = billingModeBody.parse(req.body)
    const m = await setBillingMode(ctx.db, { orgId: authOf(res).orgId, mode: body.mode })
    res.json({ billing_mode: m.mode, previous: m.previous })
  })
  return r
}
