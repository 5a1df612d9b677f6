import { Router } from 'express'
import { txUrl } from '../chain/explorer.js'
import { NoChainError } from '../core/errors.js'
import { prepareRevocation, revokePermits } from '../subscriptions/revokePermits.js'
import { authOf } from './auth.js'
import type { AppContext } from './context.js'
import { serve } from './serve.js'

const json = (v: unknown) =>
  JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)))

/**
 * The owner's revocation of every permit they signed and nobody submitted, without canceling
 * (contracts/README.md): `GET /billing/revocation` gives the EIP-712 permit to sign (their
 * current token nonce, the allowance the collector holds now), `POST /billing/revocation`
 * submits the signature. Allowance and cap stay as they are; older permits are void.
 */
export function revocationRouter(ctx: AppContext): Router {
  const r = Router()
  const chain = () => {
    if (!ctx.chain?.operator) throw new NoChainError()
    return { ...ctx.chain, operator: ctx.chain.operator }
  }
  serve(ctx, r, 'GET /v1/billing/revocation', async (_req, res) => {
    const c = chain()
    const typed = await prepareRevocation(
      { db: ctx.db, client: c.reader, deployment: c.deployment },
      { orgId: authOf(res).orgId, deadline: BigInt(Math.floor(Date.now() / 1000) + 15 * 60) },
    )
    res.json(json({ typed_data: typed }))
  })
  serve(ctx, r, 'POST /v1/billing/revocation', async (_req, res, { body }) => {
    const c = chain()
    const done = await revokePermits(
      { db: ctx.db, operator: c.operator, deployment: c.deployment },
      { orgId: authOf(res).orgId, permit: body.permit },
    )
    res.json({
      tx_hash: done.txHash,
      explorer_url: txUrl(c.chainId, done.txHash),
      nonce: done.nonce.toString(),
      allowance: done.allowance.toString(),
    })
  })
  return r
}
