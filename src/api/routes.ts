import { type NextFunction, type Request, type Response, Router } from 'express'
import { z } from 'zod'
import { lockAccounts, snapshotOf } from '../ledger/accounts.js'
import { decide } from '../ledger/decide.js'
import {
  formatUsd,
  getBillingSummary,
  listLedgerEntries,
  type MeterOutcome,
  NoBillingAccountError,
  UnknownActionError,
} from '../ledger/index.js'
import { nowMicros } from '../ledger/sql.js'
import { listPayments } from '../settlement/indexChain.js'
import type { AppContext } from './context.js'
import { createOrg } from './createOrg.js'
import { authenticateKey } from './keys.js'

type Authed = Request & { auth: { orgId: string; keyId: string } }

const idempotencyKey = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,255}$/, 'Idempotency-Key: 1-255 characters of A-Z a-z 0-9 _ . : -')
const usageBody = z.object({
  action: z.string().min(1).max(64),
  quantity: z.number().int().min(1).max(10_000).optional(),
  lease_claimed_at: z.iso.datetime().optional(),
})
const orgBody = z.object({
  name: z.string().trim().min(1).max(200),
  owner_address: z.string().max(64),
})
const pageQuery = z.object({
  before: z
    .string()
    .regex(/^\d{1,19}$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  type: z.string().max(500).optional(),
})

/** Micro-credits as a decimal string and as dollars formatted from integers. */
const money = (v: bigint | null) =>
  v === null ? null : { micros: v.toString(), usd: formatUsd(v) }

const meteredView = (o: MeterOutcome) => ({
  usage_id: o.usageId,
  action: o.action,
  quantity: o.quantity,
  price_micros: o.priceMicros,
  voucher_micros: o.voucherMicros,
  billable_micros: o.billableMicros,
  free: o.free,
  rate_version: o.rateVersion,
  replayed: o.replayed,
})

/**
 * The `/v1` API for agents and for services metering their own endpoints: sign-up, usage
 * metering (`POST /v1/usage`, idempotent), a dry-run check, the billing view and the ledger.
 * Routes validate, call one domain function, and shape the answer; errors go to the one
 * error handler.
 */
export function v1Router(ctx: AppContext): Router {
  const r = Router()
  const auth = async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? ''
    ;(req as Authed).auth = await authenticateKey(
      ctx.db,
      header.startsWith('Bearer ') ? header.slice(7).trim() : undefined,
    )
    next()
  }

  r.post('/orgs', async (req, res) => {
    const body = orgBody.parse(req.body)
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
  })

  r.get('/whoami', auth, (req, res) => {
    const { orgId, keyId } = (req as Authed).auth
    res.json({ org_id: orgId, key_id: keyId, role: 'member' })
  })

  r.post('/usage', auth, async (req, res) => {
    const { orgId } = (req as Authed).auth
    const header = req.get('idempotency-key')
    const key = header === undefined ? undefined : idempotencyKey.parse(header)
    const body = usageBody.parse(req.body)
    const outcome = await ctx.meter.meter({
      orgId,
      action: body.action,
      quantity: body.quantity,
      idempotencyKey: key,
      leaseClaimedAt: body.lease_claimed_at ? new Date(body.lease_claimed_at) : undefined,
    })
    res.status(outcome.replayed ? 200 : 201).json({ metered: meteredView(outcome) })
  })

  r.post('/usage/check', auth, async (req, res) => {
    const { orgId } = (req as Authed).auth
    const body = usageBody.parse(req.body)
    const unitPrice = ctx.config.rateCard.prices[body.action]
    if (unitPrice === undefined) throw new UnknownActionError(body.action)
    const account = (await lockAccounts(ctx.db.$client, [orgId], { lock: false })).get(orgId)
    if (!account) throw new NoBillingAccountError(orgId)
    const d = decide(snapshotOf(account), {
      action: body.action,
      quantity: body.quantity ?? 1,
      unitPrice,
      now: nowMicros(),
    })
    const price = unitPrice * BigInt(body.quantity ?? 1)
    res.json(
      d.kind === 'refuse'
        ? {
            allowed: false,
            code: d.code,
            reason: 'reason' in d ? d.reason : undefined,
            price_micros: price.toString(),
          }
        : {
            allowed: true,
            price_micros: price.toString(),
            free: d.kind === 'free' ? d.reason : null,
          },
    )
  })

  r.get('/billing', auth, async (req, res) => {
    const s = await getBillingSummary(ctx.db, (req as Authed).auth.orgId)
    res.json({
      subscription_id: s.subscriptionId,
      status: s.state,
      status_reason: s.stateReason,
      signup_credit: money(s.signupCredit),
      accrued_since_last_charge: money(s.accrued),
      authorization: {
        billing_type: 'usdc_permit',
        owner: s.owner,
        lifetime_cap: money(s.cap),
        drawn: money(s.drawn),
        remaining: money(s.remaining),
        monthly_budget: money(s.monthlyLimit),
        spent_this_period: money(s.spentThisWindow),
        period_start: s.windowStart,
        period_end: s.windowEnd,
      },
      manage_url: `${ctx.config.product.publicBaseUrl}/s/${s.subscriptionId}`,
    })
  })

  r.get('/billing/transactions', auth, async (req, res) => {
    const q = pageQuery.parse(req.query)
    const lines = await listLedgerEntries(ctx.db, {
      orgId: (req as Authed).auth.orgId,
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
          accrued: l.accruedAfter.toString(),
          booked: l.bookedAfter.toString(),
          collected: l.collectedAfter.toString(),
        },
        memo: l.memo,
        at: l.createdAt,
      })),
      next: last && lines.length === (q.limit ?? 50) ? `?before=${last.seq}` : null,
    })
  })

  r.get('/billing/payments', auth, async (req, res) => {
    const rows = await listPayments(ctx.db, { orgId: (req as Authed).auth.orgId })
    res.json({
      payments: rows.map((p) => ({
        event: p.event,
        subscription_id: p.subscriptionId,
        seq: p.seq,
        amount: money(p.amount),
        failure_reason: p.failureReason,
        tx_hash: p.txHash,
        block: p.blockNumber.toString(),
        at: p.blockTime,
        explorer_url: p.explorerUrl,
      })),
    })
  })

  return r
}
