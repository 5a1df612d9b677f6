import { Router } from 'express'
import type { z } from 'zod'
import { NotFoundError, ValidationError } from '../core/errors.js'
import { refund } from '../ledger/index.js'
import type { AppContext } from './context.js'
import { idempotencyKeyOf, idempotentCall } from './idempotency.js'
import type { operatorRefundBody } from './schemas/operatorRefundSchemas.js'
import { serve } from './serve.js'

/** The org a refund targets must be the one the body names: otherwise nothing is refunded. */
async function checkOrg(ctx: AppContext, body: z.infer<typeof operatorRefundBody>) {
  const rows = body.charge_id
    ? await ctx.db.$client<{ org_id: string }[]>`
        select org_id from charges where id = ${body.charge_id}`
    : await ctx.db.$client<{ org_id: string }[]>`
        select distinct org_id from usage where id = any(${body.usage_ids!}::int8[])`
  if (rows.length !== 1 || rows[0]!.org_id !== body.org_id)
    throw new NotFoundError('no such charge or usage lines in that org', { org_id: body.org_id })
}

/**
 * `POST /v1/operator/refunds`: the service that metered refunds a charge or usage lines of an
 * org (a job that failed after its response), with the operator's token — never an org key,
 * since the org is the payer. Same ledger step as `tollgate refund`; `Idempotency-Key` required,
 * a retry returns the first outcome (status and body).
 */
export function operatorRefundRouter(ctx: AppContext): Router {
  const r = Router()
  serve(ctx, r, 'POST /v1/operator/refunds', async (req, res, { body }) => {
    const key = idempotencyKeyOf(req)
    if (key === undefined)
      throw new ValidationError('a refund needs an Idempotency-Key header (a retry is then safe)')
    await checkOrg(ctx, body)
    const out = await idempotentCall(
      ctx.db,
      { orgId: body.org_id, key, method: 'POST', path: '/v1/operator/refunds', body },
      async () => {
        const r = await refund(ctx.db, {
          chargeId: body.charge_id,
          usageIds: body.usage_ids,
          amount: body.amount_micros === undefined ? undefined : BigInt(body.amount_micros),
          reason: body.reason,
          actor: 'operator-api',
          idempotencyKey: `api:${key}`,
        })
        const { replayed: _, ...refunded } = r
        return { status: 201, body: { refund: refunded } }
      },
    )
    if (out.replayed) res.setHeader('Idempotent-Replayed', 'true')
    res.status(out.status).json(out.body)
  })
  return r
}
