import type { Router } from 'express'
import { z } from 'zod'
import type { AppContext } from '../api/context.js'
import { txUrl } from '../chain/explorer.js'
import { NoChainError } from '../core/errors.js'
import { usdAmount } from '../core/usdAmount.js'
import { getBillingSummary } from '../ledger/index.js'
import { cancelSubscription } from '../settlement/cancelSubscription.js'
import { settlementContextFor } from '../settlement/context.js'
import { SignatureRejectedError } from '../subscriptions/errors.js'
import {
  HELD_PERMIT_LIFETIME_SECONDS,
  isCounterfactual,
} from '../subscriptions/heldAuthorizations.js'
import { prepareAuthorization } from '../subscriptions/prepareAuthorization.js'
import { submitAuthorization } from '../subscriptions/submitAuthorization.js'
import { submitTerms } from '../subscriptions/submitTerms.js'
import { cancelPermitTypedData } from '../subscriptions/typedData.js'
import { hex, uint } from './manageFields.js'
import type { ManageOwnerCheck } from './manageNoticeRoutes.js'

const authorizeBody = z.object({
  /** None for a new monthly limit alone, when the allowance already covers the cap. */
  permit: z.object({ value: uint, deadline: uint, nonce: uint, signature: hex }).optional(),
  /** The lifetime cap the owner chose (dollars): a top-up's permit never takes them past it. */
  cap: usdAmount.optional(),
  terms: z
    .object({
      cap: uint,
      limit: uint,
      period: z.number().int(),
      nonce: z.number().int(),
      deadline: uint,
      signature: hex,
    })
    .optional(),
})
const json = (v: unknown) =>
  JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)))

/**
 * The manage page's signed writes: `prepare` builds the EIP-712 permit and terms (or the
 * cancel permit) for the owner's wallet to show field by field, `authorize` submits what they
 * signed (held until the first charge for a wallet not yet deployed), `cancel` cancels on-chain.
 */
export function addManageSigningRoutes(
  r: Router,
  ctx: AppContext,
  requireOwner: ManageOwnerCheck,
): void {
  const chain = () => {
    if (!ctx.chain?.operator) throw new NoChainError()
    return { ...ctx.chain, operator: ctx.chain.operator }
  }

  r.post('/:id/prepare', async (req, res) => {
    const { id, sub, owner } = await requireOwner(req)
    const c = chain()
    const body = z
      .object({
        action: z.enum(['authorize', 'cancel']),
        cap: usdAmount.optional(),
        monthly_limit: usdAmount.optional(),
      })
      .parse(req.body)
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 15 * 60)
    if (body.action === 'cancel') {
      // One signature cancels and leaves nothing behind: a zero permit for the collector.
      return void res.json(
        json({
          cancel: await cancelPermitTypedData(c.reader, {
            token: c.usdc,
            owner,
            collector: c.collector!,
            deadline,
          }),
        }),
      )
    }
    const s = await getBillingSummary(ctx.db, sub.org_id)
    // A wallet with no code yet has its authorization held until the first charge is due, which
    // may be weeks away: its permit and terms must outlive that wait, not the page's minutes.
    const counterfactual = isCounterfactual(await c.reader.getCode({ address: owner }))
    const { permit, terms } = await prepareAuthorization(c.reader, {
      chainId: c.chainId,
      token: c.usdc,
      collector: c.collector!,
      owner,
      subscriptionId: id,
      state: s.state,
      collected: s.drawn,
      booked: s.booked,
      cap: body.cap,
      monthlyLimit: body.monthly_limit,
      windowSeconds: ctx.config.billing.windowSeconds,
      deadline: counterfactual
        ? BigInt(Math.floor(Date.now() / 1000) + HELD_PERMIT_LIFETIME_SECONDS)
        : deadline,
    })
    res.json(json({ permit, terms }))
  })

  r.post('/:id/authorize', async (req, res) => {
    const { id, sub, owner } = await requireOwner(req)
    const c = chain()
    const body = authorizeBody.parse(req.body)
    const writer = { db: ctx.db, operator: c.operator, deployment: c.deployment }
    if (!body.permit) {
      if (!body.terms)
        throw new SignatureRejectedError('nothing_signed', 'send a signed permit, terms or both')
      const { txHash } = await submitTerms(writer, {
        orgId: sub.org_id,
        subscriptionId: id,
        owner,
        terms: body.terms,
      })
      return void res.json({
        ok: true,
        held: false,
        tx_hash: txHash,
        explorer_url: txUrl(c.chainId, txHash),
      })
    }
    const result = await submitAuthorization(writer, {
      orgId: sub.org_id,
      subscriptionId: id,
      auth: { owner, permit: body.permit, terms: body.terms },
      cap: body.cap,
    })
    // A counterfactual owner's authorization is held: the wallet is deployed with its first charge.
    if (result.held) return void res.json({ ok: true, held: true, tx_hash: null })
    res.json({
      ok: true,
      held: false,
      tx_hash: result.txHash,
      explorer_url: txUrl(c.chainId, result.txHash),
    })
  })

  r.post('/:id/cancel', async (req, res) => {
    const { id, sub } = await requireOwner(req)
    const c = chain()
    const body = z.object({ deadline: uint, nonce: uint, signature: hex }).parse(req.body)
    const settlement = settlementContextFor(
      ctx.config,
      ctx.db,
      { operator: c.operator, deployment: c.deployment },
      ctx.log,
    )
    const { txHash: hash } = await cancelSubscription(settlement, {
      orgId: sub.org_id,
      subscriptionId: id,
      deadline: body.deadline,
      nonce: body.nonce,
      signature: body.signature,
    })
    res.json({ ok: true, tx_hash: hash, explorer_url: hash ? txUrl(c.chainId, hash) : null })
  })
}
