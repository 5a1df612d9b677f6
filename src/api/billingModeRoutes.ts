import { Router } from 'express'
import type { z } from 'zod'
import { setBillingMode } from '../ledger/index.js'
import { authOf } from './auth.js'
import type { AppContext } from './context.js'
import { mountOperations } from './mountOperations.js'
import { billingOperations } from './operations/billingOperations.js'
import type { billingModeBody } from './schemas/billingModeSchemas.js'

/** `POST /v1/billing/mode`: the owner (or an admin) chooses how the org pays. */
export function billingModeRouter(ctx: AppContext): Router {
  const r = Router()
  mountOperations(r, billingOperations, {
    'POST /v1/billing/mode': async (_req, res, input) => {
      const body = input.body as z.output<typeof billingModeBody>
      const m = await setBillingMode(ctx.db, { orgId: authOf(res).orgId, mode: body.mode })
      res.json({ billing_mode: m.mode, previous: m.previous })
    },
  })
  return r
}
