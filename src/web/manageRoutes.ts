import { Router } from 'express'
import { isAddressEqual } from 'viem'
import { z } from 'zod'
import type { AppContext } from '../api/context.js'
import { issueSiweNonce } from '../api/sessions.js'
import { statementView, usageView } from '../api/usageRoutes.js'
import { verifySiweSignIn } from '../api/verifySiweSignIn.js'
import { formatUsd } from '../ledger/index.js'
import { startNewSubscription } from '../subscriptions/state/startNewSubscription.js'
import { type ManagedSubscription, manageAccess, NotOwnerError } from './manageAccess.js'
import { hex } from './manageFields.js'
import { addManageNoticeRoutes } from './manageNoticeRoutes.js'
import { managePageHtml } from './managePage.js'
import { addManageSigningRoutes } from './manageSigningRoutes.js'
import { addManageStateRoute } from './manageStateRoute.js'
import { addManagePrepaidRoutes } from './manageTopUpRoutes.js'
import {
  publicHistoryHtml,
  publicHistoryJson,
  readPublicHistory,
  setHistoryPublic,
} from './publicHistory.js'
import { signManageToken } from './session.js'

/**
 * The hosted manage page `/s/<subscription_id>`: anyone with the link sees the state; the
 * owner's connected wallet (after signing a sign-in message) or a fresh manage link sees
 * the amounts and may authorize, top up, change the monthly limit and cancel — each by an
 * EIP-712 signature the wallet shows field by field. Only the owner's signatures change anything.
 */
export function manageRouter(ctx: AppContext): Router {
  const r = Router()
  const { lookup, holder, requireViewer, requireOwner } = manageAccess(ctx)

  r.get('/:id', async (req, res) => {
    const sub = await lookup(req.params.id)
    res.type('html').send(
      managePageHtml({
        subscriptionId: req.params.id,
        state: sub.state,
        product: ctx.config.product.name,
        packageOffers: ctx.config.billing.prepaidPackages.map(
          (o) => `Buy ${formatUsd(o.price)}, get ${formatUsd(o.bonus)} free`,
        ),
        windowSeconds: ctx.config.billing.windowSeconds,
      }),
    )
  })

  // The public payment history, readable without an account once the owner allows it.
  const publicHistory = async (id: string) => {
    await lookup(id)
    return await readPublicHistory(ctx.db, {
      subscriptionId: id,
      chain: ctx.chain && {
        chainId: ctx.chain.chainId,
        token: ctx.chain.usdc,
        collector: ctx.chain.collector,
      },
    })
  }
  r.get('/:id/history.json', async (req, res) => {
    res.json(publicHistoryJson(await publicHistory(req.params.id)))
  })
  r.get('/:id/history', async (req, res) => {
    res
      .type('html')
      .send(publicHistoryHtml(await publicHistory(req.params.id), ctx.config.product.name))
  })
  r.post('/:id/visibility', async (req, res) => {
    const { id, owner } = await requireOwner(req)
    const body = z.strictObject({ public_history: z.boolean() }).parse(req.body)
    await setHistoryPublic(ctx.db, { subscriptionId: id, owner, public: body.public_history })
    res.json({ public_history: body.public_history, history_url: `/s/${id}/history` })
  })

  // Sign-In with Ethereum (EIP-4361): the page builds the message with this nonce.
  r.get('/:id/challenge', async (req, res) => {
    await lookup(req.params.id)
    const { nonce, expiresIn } = await issueSiweNonce(ctx.db)
    res.json({ nonce, expires_in: expiresIn, chain_id: ctx.chain?.chainId ?? 1 })
  })

  r.post('/:id/session', async (req, res) => {
    const body = z.object({ message: z.string().max(4_000), signature: hex }).parse(req.body)
    const sub = await lookup(req.params.id)
    const address = await verifySiweSignIn(ctx, req, body)
    if (!sub.ownerAddress || !isAddressEqual(address, sub.ownerAddress)) throw new NotOwnerError()
    const token = signManageToken(ctx.config, req.params.id, address)
    res.setHeader(
      'set-cookie',
      `tg_manage=${token}; Path=/s/${req.params.id}; HttpOnly; SameSite=Strict; Max-Age=900${ctx.config.product.publicBaseUrl.startsWith('https') ? '; Secure' : ''}`,
    )
    res.json({ ok: true, owner: address })
  })

  // The owner's usage and monthly statements, as `GET /v1/billing/usage` and
  // `GET /v1/billing/statements/<yyyy-mm>` answer them, for the manage page: reads of amounts,
  // so a fresh manage link sees them as the owner's wallet does.
  const ownerAuth = (sub: ManagedSubscription, id: string) => ({
    orgId: sub.org_id,
    role: 'owner' as const,
    keyId: null,
    address: sub.ownerAddress,
    credential: `manage:${id}`,
    expiresAt: null,
  })
  r.get('/:id/usage', async (req, res) => {
    const { id, sub } = await requireViewer(req)
    const out = await usageView(ctx, ownerAuth(sub, id), {
      params: {},
      body: undefined,
      query: req.query as Record<string, unknown>,
    })
    res.json(out.body)
  })
  r.get('/:id/statements/:month', async (req, res) => {
    const { id, sub } = await requireViewer(req)
    const out = await statementView(ctx, ownerAuth(sub, id), {
      params: { month: req.params.month },
      body: undefined,
      query: {},
    })
    res.json(out.body)
  })

  // After a cancel: a new pending subscription for the same org; the page moves to it.
  r.post('/:id/renew', async (req, res) => {
    const { id, sub, owner } = await requireOwner(req)
    const { subscriptionId, created } = await startNewSubscription(ctx.db, {
      orgId: sub.org_id,
      canceledSubscriptionId: id,
    })
    const token = signManageToken(ctx.config, subscriptionId, owner)
    res.setHeader(
      'set-cookie',
      `tg_manage=${token}; Path=/s/${subscriptionId}; HttpOnly; SameSite=Strict; Max-Age=900${ctx.config.product.publicBaseUrl.startsWith('https') ? '; Secure' : ''}`,
    )
    res.json({ subscription_id: subscriptionId, created, url: `/s/${subscriptionId}` })
  })

  addManageStateRoute(r, ctx, { lookup, holder })
  addManageSigningRoutes(r, ctx, requireOwner)
  addManageNoticeRoutes(r, ctx, { requireViewer, requireOwner })
  addManagePrepaidRoutes(r, ctx.db, requireOwner, ctx.config.billing.prepaidPackages)

  return r
}
