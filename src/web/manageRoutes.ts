import { type Request, Router } from 'express'
import { type Address, getAddress, isAddressEqual } from 'viem'
import { z } from 'zod'
import { assertSameSite } from '../api/auth.js'
import type { AppContext } from '../api/context.js'
import { issueSiweNonce } from '../api/sessions.js'
import { statementView, usageView } from '../api/usageRoutes.js'
import { verifySiweSignIn } from '../api/verifySiweSignIn.js'
import { usdcAbi } from '../chain/abis.js'
import { addressUrl, txUrl } from '../chain/explorer.js'
import { BaseError, NoChainError, NotFoundError } from '../core/errors.js'
import { usdAmount } from '../core/usdAmount.js'
import { formatUsd, getBillingSummary, listCharges, startNewSubscription } from '../ledger/index.js'
import { cancelSubscription } from '../settlement/cancelSubscription.js'
import { settlementContextFor } from '../settlement/context.js'
import { listPaymentHistory } from '../settlement/listPaymentHistory.js'
import { SignatureRejectedError } from '../subscriptions/errors.js'
import {
  getUnsubmittedHeld,
  HELD_PERMIT_LIFETIME_SECONDS,
  isCounterfactual,
} from '../subscriptions/heldAuthorizations.js'
import { prepareAuthorization } from '../subscriptions/prepareAuthorization.js'
import { submitAuthorization } from '../subscriptions/submitAuthorization.js'
import { submitTerms } from '../subscriptions/submitTerms.js'
import { cancelPermitTypedData } from '../subscriptions/typedData.js'
import { addManageNoticeRoutes } from './manageNoticeRoutes.js'
import { managePageHtml } from './managePage.js'
import { addManageTopUpRoute } from './manageTopUpRoutes.js'
import {
  isHistoryPublic,
  publicHistoryHtml,
  publicHistoryJson,
  readPublicHistory,
  setHistoryPublic,
} from './publicHistory.js'
import { signManageToken, verifyManageToken } from './session.js'

class NotOwnerError extends BaseError {
  constructor() {
    super(
      'only the owner’s wallet (or a fresh manage link) can see amounts and change this subscription',
      { code: 'NOT_OWNER' },
    )
  }
}

const hex = z
  .string()
  .regex(/^0x[0-9a-fA-F]*$/)
  .transform((v) => v as `0x${string}`)
const uint = z
  .string()
  .regex(/^\d{1,78}$/)
  .transform(BigInt)
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
 * The hosted manage page `/s/<subscription_id>`: anyone with the link sees the state; the
 * owner's connected wallet (after signing a sign-in message) or a fresh manage link sees
 * the amounts and may authorize, top up, change the monthly limit and cancel — each by an
 * EIP-712 signature the wallet shows field by field. Only the owner's signatures change anything.
 */
export function manageRouter(ctx: AppContext): Router {
  const r = Router()

  const lookup = async (id: string) => {
    if (!/^[0-9a-f]{32}$/.test(id)) throw new NotFoundError('no such subscription')
    const [row] = await ctx.db.$client<
      {
        org_id: string
        owner: string | null
        org_owner: string | null
        state: string
        state_changed_at: Date
      }[]
    >`
      select s.org_id, s.owner, o.owner_address as org_owner, s.state, s.state_changed_at
      from subscriptions s left join orgs o on o.id = s.org_id where s.id = ${id}`
    if (!row) throw new NotFoundError('no such subscription')
    return { ...row, ownerAddress: (row.owner ?? row.org_owner) as Address | null }
  }
  const holder = (req: Request, id: string) =>
    verifyManageToken(req.get('x-manage-token') ?? (req.query.t as string | undefined), id) ??
    verifyManageToken(/(?:^|;\s*)tg_manage=([^;]+)/.exec(req.get('cookie') ?? '')?.[1], id)
  const requireOwner = async (req: Request) => {
    if (!req.get('x-manage-token')) assertSameSite(req, ctx.config.product.publicBaseUrl)
    const id = req.params.id as string
    const sub = await lookup(id)
    const who = holder(req, id)
    if (
      !who ||
      who === 'link' ||
      !sub.ownerAddress ||
      !isAddressEqual(who as Address, sub.ownerAddress)
    )
      throw new NotOwnerError()
    return { id, sub, owner: getAddress(who) }
  }
  const chain = () => {
    if (!ctx.chain?.operator) throw new NoChainError()
    return { ...ctx.chain, operator: ctx.chain.operator }
  }

  r.get('/:id', async (req, res) => {
    const sub = await lookup(req.params.id)
    res.type('html').send(
      managePageHtml({
        subscriptionId: req.params.id,
        state: sub.state,
        product: ctx.config.product.name,
      }),
    )
  })

  r.get('/:id/state', async (req, res) => {
    const id = req.params.id
    const sub = await lookup(id)
    const who = holder(req, id)
    const isOwner =
      who !== undefined &&
      (who === 'link' ||
        (sub.ownerAddress !== null && isAddressEqual(who as Address, sub.ownerAddress)))
    const base = {
      subscription_id: id,
      state: sub.state,
      product: ctx.config.product.name,
      chain_id: ctx.chain?.chainId ?? null,
      token: ctx.chain?.usdc ?? null,
      collector: ctx.chain?.collector ?? null,
      // Who receives every collection: the collector pulls to this fixed address only.
      payee: ctx.chain?.deployment.payee ?? null,
      explorer_tx_prefix: ctx.chain ? txUrl(ctx.chain.chainId, '') : null,
      explorer_address_prefix: ctx.chain ? addressUrl(ctx.chain.chainId, '') : null,
    }
    if (!isOwner) return void res.json({ ...base, owner_view: false })
    const s = await getBillingSummary(ctx.db, sub.org_id)
    const payments = await listPaymentHistory(ctx.db, { orgId: sub.org_id, subscriptionId: id })
    // This subscription's, as its payments are: a renewed one starts with an empty history.
    const charges = await listCharges(ctx.db, { orgId: sub.org_id, subscriptionId: id, limit: 20 })
    const usd = (v: bigint | null) => (v === null ? null : formatUsd(v))
    // What the token says now, so a canceled page can show the allowance really is 0.
    const allowance =
      ctx.chain?.collector && sub.ownerAddress
        ? await ctx.chain.reader
            .readContract({
              address: ctx.chain.usdc,
              abi: usdcAbi,
              functionName: 'allowance',
              args: [sub.ownerAddress, ctx.chain.collector],
            })
            .catch(() => null)
        : null
    const micros = (v: bigint | null) => (v === null ? null : v.toString())
    res.json({
      ...base,
      owner_view: true,
      owner: sub.ownerAddress,
      state_reason: s.stateReason,
      prepaid: s.billingMode === 'prepaid',
      signup_credit: usd(s.signupCredit),
      accrued: usd(s.accrued),
      cap: usd(s.cap),
      drawn: usd(s.drawn),
      remaining: usd(s.remaining),
      monthly_limit: usd(s.monthlyLimit),
      spent_this_period: usd(s.spentThisWindow),
      waiting_for_limit: s.waitingForLimit > 0n ? usd(s.waitingForLimit) : null,
      limit_too_low: s.limitTooLow,
      allowance_on_chain: usd(allowance),
      window_start: s.windowStart?.toISOString() ?? null,
      window_end: s.windowEnd?.toISOString() ?? null,
      window_seconds: ctx.config.billing.windowSeconds,
      state_changed_at: sub.state_changed_at,
      // The exact values behind each dollar figure, shown on hover.
      micros: {
        signup_credit: micros(s.signupCredit),
        accrued: micros(s.accrued),
        cap: micros(s.cap),
        drawn: micros(s.drawn),
        remaining: micros(s.remaining),
        monthly_limit: micros(s.monthlyLimit),
        spent_this_period: micros(s.spentThisWindow),
        allowance: micros(allowance),
      },
      public_history: await isHistoryPublic(ctx.db, id),
      // Authorized but not yet on-chain: sent, deploying the wallet, with the first charge.
      authorization_held: (await getUnsubmittedHeld(ctx.db, { subscriptionId: id })) !== undefined,
      payments: payments.map((p) => ({
        kind: p.kind,
        event: p.event,
        status: p.status,
        seq: p.seq,
        amount: usd(p.amount),
        amount_micros: micros(p.amount),
        payer: p.payer,
        recipient: p.recipient,
        tx_hash: p.txHash,
        explorer_url: p.explorerUrl,
        reason: p.failureReason,
        at: p.at,
      })),
      charges: charges.map((c) => ({
        seq: c.seq,
        amount: usd(c.amount),
        amount_micros: micros(c.amount),
        status: c.status,
        reason: c.failureReason,
      })),
    })
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
    const token = signManageToken(req.params.id, address)
    res.setHeader(
      'set-cookie',
      `tg_manage=${token}; Path=/s/${req.params.id}; HttpOnly; SameSite=Strict; Max-Age=900${ctx.config.product.publicBaseUrl.startsWith('https') ? '; Secure' : ''}`,
    )
    res.json({ ok: true, owner: address })
  })

  // The owner's usage and monthly statements, as `GET /v1/billing/usage` and
  // `GET /v1/billing/statements/<yyyy-mm>` answer them, for the manage page.
  const ownerAuth = (orgId: string, owner: Address, id: string) => ({
    orgId,
    role: 'owner' as const,
    keyId: null,
    address: owner,
    credential: `manage:${id}`,
    expiresAt: null,
  })
  r.get('/:id/usage', async (req, res) => {
    const { id, sub, owner } = await requireOwner(req)
    const out = await usageView(ctx, ownerAuth(sub.org_id, owner, id), {
      params: {},
      body: undefined,
      query: req.query as Record<string, unknown>,
    })
    res.json(out.body)
  })
  r.get('/:id/statements/:month', async (req, res) => {
    const { id, sub, owner } = await requireOwner(req)
    const out = await statementView(ctx, ownerAuth(sub.org_id, owner, id), {
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
    const token = signManageToken(subscriptionId, owner)
    res.setHeader(
      'set-cookie',
      `tg_manage=${token}; Path=/s/${subscriptionId}; HttpOnly; SameSite=Strict; Max-Age=900${ctx.config.product.publicBaseUrl.startsWith('https') ? '; Secure' : ''}`,
    )
    res.json({ subscription_id: subscriptionId, created, url: `/s/${subscriptionId}` })
  })

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

  addManageNoticeRoutes(r, ctx, requireOwner)
  addManageTopUpRoute(r, ctx.db, requireOwner)

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

  return r
}
