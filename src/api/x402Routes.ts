import { encodePaymentRequiredHeader, encodePaymentResponseHeader } from '@x402/core/http'
import { type ErrorRequestHandler, type Request, type Response, Router } from 'express'
import { BaseError, NoChainError } from '../core/errors.js'
import type { Sql } from '../ledger/sql.js'
import { acceptPayment } from '../x402/acceptPayment.js'
import type { X402Context } from '../x402/context.js'
import { creditPayment } from '../x402/creditPayment.js'
import { PaymentRequiredError } from '../x402/errors.js'
import { networkOf, paymentRequired } from '../x402/paymentRequired.js'
import type { Payment } from '../x402/paymentRow.js'
import { money } from './agentActions.js'
import { authOf } from './auth.js'
import type { AppContext } from './context.js'
import { type CreateOrgReturnType, createOrgIn } from './createOrg.js'
import { serve } from './serve.js'

/** The request header an x402 client pays with (v2), and the two the server answers with. */
const PAYMENT_SIGNATURE = 'payment-signature'

/** The x402 door of this process, when it has a chain; undefined on a node without one. */
export function x402ContextFor(ctx: AppContext): X402Context | undefined {
  const chain = ctx.chain
  if (!chain) return undefined
  const { topUpMicros, maxMicros } = ctx.config.x402
  return {
    db: ctx.db,
    reader: chain.reader,
    operator: chain.operator,
    chainId: chain.chainId,
    token: chain.usdc,
    payee: chain.deployment.payee,
    amounts: { topUp: topUpMicros, min: topUpMicros, max: maxMicros },
    log: ctx.log,
  }
}

/**
 * Opens a sign-up's org for its payer, as `POST /v1/orgs` does but without the signup credit:
 * the payment is the org's balance (docs/x402.md, "Signup credit").
 */
export const openSignupOrg =
  (name?: string) =>
  (tx: Sql, owner: `0x${string}`): Promise<CreateOrgReturnType> =>
    createOrgIn(tx, {
      name: name ?? `x402 ${owner.slice(0, 10)}`,
      ownerAddress: owner,
      signupCreditMicros: 0n,
      creditsPerOwner: 0,
    })

const fullUrl = (ctx: AppContext, req: Request) =>
  `${ctx.config.product.publicBaseUrl}${req.originalUrl}`

/** Sets `PAYMENT-REQUIRED`: the x402 v2 requirements of a top-up, for this URL. */
async function offer(ctx: AppContext, x: X402Context, req: Request, res: Response, why: string) {
  const required = await paymentRequired(x, { url: fullUrl(ctx, req), description: why })
  res.setHeader('PAYMENT-REQUIRED', encodePaymentRequiredHeader(required))
}

/** Sets `PAYMENT-RESPONSE`: the settlement of the payment this request brought. */
function settled(res: Response, p: Payment) {
  res.setHeader(
    'PAYMENT-RESPONSE',
    encodePaymentResponseHeader({
      success: true,
      transaction: p.txHash ?? '',
      network: networkOf(p.chainId),
      payer: p.payer,
      amount: p.value.toString(),
    }),
  )
}

/**
 * Middleware (behind authentication): a write that carries `PAYMENT-SIGNATURE` pays a top-up
 * of its org before it is served — verified, settled through the operator, credited to the
 * prepaid balance once per authorization — and the request then runs on that balance. The same
 * header again (x402 clients retry as they were told) finds the payment done and pays nothing.
 */
export function payTopUp(ctx: AppContext) {
  return async (req: Request, res: Response, next: (e?: unknown) => void) => {
    // Reads are free: only a write pays.
    const header = req.method === 'GET' ? undefined : req.get(PAYMENT_SIGNATURE)
    const x = header ? x402ContextFor(ctx) : undefined
    if (!header || !x) return next()
    try {
      const orgId = authOf(res).orgId
      const payment = await acceptPayment(x, { header, purpose: 'topup', orgId })
      const { payment: credited } = await creditPayment(x, payment.id, openSignupOrg())
      settled(res, credited)
      next()
    } catch (e) {
      next(e)
    }
  }
}

/**
 * Error middleware: a 402 for an org that cannot pay (`BILLING_INACTIVE`), or a refused payment,
 * keeps its JSON envelope and also carries `PAYMENT-REQUIRED`, so an x402 client can top the
 * org up and retry.
 */
export function offerTopUp(ctx: AppContext): ErrorRequestHandler {
  return (err, req, res, next) => {
    const x = x402ContextFor(ctx)
    const code = err instanceof BaseError ? err.code : undefined
    if (!x || res.headersSent || (code !== 'BILLING_INACTIVE' && code !== 'PAYMENT_REFUSED'))
      return next(err)
    offer(ctx, x, req, res, 'top up the prepaid balance of this org').then(
      () => next(err),
      // The requirements could not be read (the chain is away): the 402 goes out without them.
      () => next(err),
    )
  }
}

/**
 * `POST /v1/x402/orgs`: sign-up paid over x402. Without a payment: 402 `PAYMENT_REQUIRED` with
 * the requirements. With one: the payment is verified and settled, and in one transaction the
 * org is opened — owned by the paying wallet — and credited; 201 with the first API key. The
 * same payment again answers 200 with the org and no key (a key is shown once; the owner mints
 * more on the manage page).
 */
export function x402Router(ctx: AppContext): Router {
  const r = Router()
  serve(ctx, r, 'POST /v1/x402/orgs', async (req, res, { body }) => {
    const x = x402ContextFor(ctx)
    if (!x) throw new NoChainError('this node has no chain to take x402 payments on')
    const header = req.get(PAYMENT_SIGNATURE)
    if (!header) {
      await offer(ctx, x, req, res, 'sign up: an org owned by the paying wallet')
      throw new PaymentRequiredError(
        'pay the sign-up over x402 (the PAYMENT-REQUIRED header) and retry with PAYMENT-SIGNATURE',
      )
    }
    const payment = await acceptPayment(x, { header, purpose: 'signup', orgId: null })
    const { payment: credited, opened } = await creditPayment(
      x,
      payment.id,
      openSignupOrg(body.name),
    )
    settled(res, credited)
    const [account] = await ctx.db.$client<{ subscription_id: string }[]>`
      select subscription_id from billing_accounts where org_id = ${credited.orgId}`
    const subscriptionId = account!.subscription_id
    res.status(opened ? 201 : 200).json({
      org: { id: credited.orgId, owner_address: credited.payer },
      subscription_id: subscriptionId,
      prepaid: money(credited.value),
      signup_credit: opened ? money(opened.signupCredit) : null,
      api_key: opened?.apiKey ?? null,
      manage_url: `${ctx.config.product.publicBaseUrl}/s/${subscriptionId}`,
      payment: { id: credited.id.toString(), tx_hash: credited.txHash },
    })
  })
  return r
}
