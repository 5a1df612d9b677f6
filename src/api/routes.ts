import { Router } from 'express'
import { rfc3339 } from '../db/rfc3339.js'
import { describeLedgerEntry, listLedgerEntries } from '../ledger/index.js'
import { listPaymentHistory } from '../settlement/listPaymentHistory.js'
import { actionRouter } from './actions.js'
import { agentActions, money } from './agentActions.js'
import { authOf, requireAuth } from './auth.js'
import { billingModeRouter } from './billingModeRoutes.js'
import { budgetRouter } from './budgetRoutes.js'
import { checkUsage } from './checkUsage.js'
import type { AppContext } from './context.js'
import { createOrg } from './createOrg.js'
import { idempotencyKeyOf, idempotent } from './idempotency.js'
import { meteredView } from './metering.js'
import { notificationRouter } from './notificationRoutes.js'
import { operations } from './operations.js'
import { operatorPlanRouter } from './operatorPlanRoutes.js'
import { operatorRefundRouter } from './operatorRefundRoutes.js'
import { authRouter, keyRouter } from './ownerRoutes.js'
import { queueActions } from './queueActions.js'
import { defaultRateLimits, type RateLimits, signupRateLimit } from './rateLimits.js'
import { refuseUnknownPaths } from './refuseUnknownPaths.js'
import { revocationRouter } from './revocationRoutes.js'
import { serve } from './serve.js'
import { strictQuery } from './strictQuery.js'
import { topUpRouter } from './topUpRoutes.js'
import { usageRouter } from './usageRoutes.js'
import { offerTopUp, payTopUp, x402Router } from './x402Routes.js'

/**
 * The `/v1` API for agents and for services metering their own endpoints: sign-up, usage
 * metering (`POST /v1/usage`, idempotent), a dry-run check, the billing view and the ledger.
 * Routes validate, call one domain function, and shape the answer; errors go to the one
 * error handler.
 */
export function v1Router(ctx: AppContext, limits: RateLimits = defaultRateLimits): Router {
  const r = Router()
  // A query parameter the route's operation does not take is refused, before anything else.
  r.use(strictQuery(operations))
  serve(
    ctx,
    r,
    'POST /v1/orgs',
    async (_req, res, { body }) => {
      const org = await createOrg(ctx.db, {
        name: body.name,
        ownerAddress: body.owner_address,
        signupCreditMicros: ctx.config.billing.signupCreditMicros,
        creditsPerOwner: ctx.config.billing.signupCreditsPerOwner,
      })
      res.status(201).json({
        org: { id: org.orgId, name: org.name, owner_address: org.ownerAddress },
        subscription_id: org.subscriptionId,
        signup_credit: money(org.signupCredit),
        api_key: org.apiKey,
        manage_url: `${ctx.config.product.publicBaseUrl}/s/${org.subscriptionId}`,
      })
    },
    [signupRateLimit(limits)],
  )

  // Sign-up paid over x402 (public: the payment is the credential).
  r.use(x402Router(ctx))
  r.use(authRouter(ctx))
  // The operator's own routes (its bearer token, not an org credential).
  r.use(operatorRefundRouter(ctx))
  r.use(operatorPlanRouter(ctx))

  // A path nothing serves is 404 whoever asks; everything below needs a credential (API key,
  // session key or owner session).
  r.use(refuseUnknownPaths(operations))
  r.use(requireAuth(ctx.db, { publicBaseUrl: ctx.config.product.publicBaseUrl }))
  // A request carrying an x402 payment tops its org up first, then runs on that balance.
  r.use(payTopUp(ctx))
  // Every write takes an Idempotency-Key; /usage is idempotent in the ledger itself.
  const idem = idempotent(ctx.db)
  r.use((req, res, next) =>
    req.method === 'GET' || req.path.startsWith('/usage') ? next() : idem(req, res, next),
  )

  serve(ctx, r, 'POST /v1/usage', async (req, res, { body }) => {
    const { orgId, keyId } = authOf(res)
    const key = idempotencyKeyOf(req)
    const outcome = await ctx.meter.meter({
      orgId,
      keyId,
      action: body.action,
      quantity: body.quantity,
      idempotencyKey: key,
      leaseClaimedAt: body.lease_claimed_at ? new Date(body.lease_claimed_at) : undefined,
    })
    // A retry with the key answers what the first call answered, status and body alike (the
    // ledger keeps the first outcome); only the header says it is a replay.
    if (outcome.replayed) res.setHeader('Idempotent-Replayed', 'true')
    res.status(201).json({ metered: meteredView({ ...outcome, replayed: false }) })
  })

  serve(ctx, r, 'POST /v1/usage/check', async (_req, res, { body }) => {
    const { orgId, keyId } = authOf(res)
    const c = await checkUsage(ctx, {
      orgId,
      keyId,
      action: body.action,
      quantity: body.quantity,
      leaseClaimedAt: body.lease_claimed_at ? new Date(body.lease_claimed_at) : undefined,
    })
    res.json(
      c.allowed
        ? { allowed: true, price_micros: c.priceMicros.toString(), free: c.free }
        : {
            allowed: false,
            code: c.code,
            reason: c.reason,
            price_micros: c.priceMicros.toString(),
            ...(c.cap && {
              scope: c.cap.scope,
              period: c.cap.period,
              limit_micros: c.cap.limit.toString(),
              spent_micros: c.cap.spent.toString(),
              resets_at:
                c.cap.resetsAt === null
                  ? null
                  : new Date(Number(c.cap.resetsAt / 1000n)).toISOString(),
            }),
          },
    )
  })

  serve(ctx, r, 'GET /v1/billing/transactions', async (_req, res, { query: q }) => {
    const lines = await listLedgerEntries(ctx.db, {
      orgId: authOf(res).orgId,
      beforeSeq: q.before ? BigInt(q.before) : undefined,
      limit: q.limit,
      kinds: q.type?.split(','),
    })
    const last = lines.at(-1)
    res.json({
      transactions: lines.map((l) => ({
        seq: l.seq,
        kind: l.kind,
        amount: money(l.amount),
        balances_after: {
          signup_credit: l.voucherAfter.toString(),
          prepaid: l.prepaidAfter.toString(),
          accrued: l.accruedAfter.toString(),
          booked: l.bookedAfter.toString(),
          collected: l.collectedAfter.toString(),
        },
        memo: l.memo,
        description: describeLedgerEntry(l),
        at: rfc3339(l.createdAt),
      })),
      next: last && lines.length === (q.limit ?? 50) ? `?before=${last.seq}` : null,
    })
  })

  serve(ctx, r, 'GET /v1/billing/payments', async (_req, res) => {
    const rows = await listPaymentHistory(ctx.db, { orgId: authOf(res).orgId })
    res.json({
      payments: rows.map((p) => ({
        kind: p.kind,
        event: p.event,
        status: p.status,
        direction: p.direction,
        subscription_id: p.subscriptionId,
        seq: p.seq,
        amount: money(p.amount),
        payer: p.payer,
        recipient: p.recipient,
        refund_id: p.refundId,
        failure_reason: p.failureReason,
        tx_hash: p.txHash,
        block: p.blockNumber?.toString() ?? null,
        at: p.at,
        explorer_url: p.explorerUrl,
      })),
    })
  })

  r.use(usageRouter(ctx))
  r.use(actionRouter(ctx, agentActions))
  r.use(keyRouter(ctx))
  r.use(notificationRouter(ctx))
  r.use(budgetRouter(ctx))
  r.use(billingModeRouter(ctx))
  r.use(topUpRouter(ctx))
  r.use(revocationRouter(ctx))
  r.use(actionRouter(ctx, queueActions))
  // A 402 for an org that cannot pay also offers an x402 top-up.
  r.use(offerTopUp(ctx))
  return r
}
