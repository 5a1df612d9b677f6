import type { Router } from 'express'
import { getAddress } from 'viem'
import type { AppContext } from '../api/context.js'
import { planView } from '../api/operatorPlanRoutes.js'
import { usdcAbi } from '../chain/abis.js'
import { addressUrl, txUrl } from '../chain/explorer.js'
import {
  formatUsd,
  getBillingSummary,
  listCharges,
  listTopUps,
  readAutoTopUp,
} from '../ledger/index.js'
import { listPaymentHistory } from '../settlement/listPaymentHistory.js'
import { getUnsubmittedHeld } from '../subscriptions/heldAuthorizations.js'
import { type ManageAccess, mayView } from './manageAccess.js'
import { isHistoryPublic } from './publicHistory.js'

/**
 * `GET /s/<id>/state`: the state for anyone with the link; for the owner (their wallet signed in,
 * or a fresh manage link) also the amounts, the payments and charges and the allowance on-chain.
 */
export function addManageStateRoute(
  r: Router,
  ctx: AppContext,
  { lookup, holder }: Pick<ManageAccess, 'lookup' | 'holder'>,
): void {
  r.get('/:id/state', async (req, res) => {
    const id = req.params.id
    const sub = await lookup(id)
    const who = holder(req, id)
    const isOwner = mayView(sub, who)
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
    // The top-ups among them, for a package's bonus (the 20 latest charges hold at most 20).
    const topUps = new Map(
      (await listTopUps(ctx.db, { orgId: sub.org_id, limit: 20 })).map((t) => [t.id, t]),
    )
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
      // A manage link shows amounts without a signed-in wallet: the page says which it is.
      via_link: who === 'link',
      owner: sub.ownerAddress && getAddress(sub.ownerAddress),
      state_reason: s.stateReason,
      prepaid: s.billingMode === 'prepaid',
      // Below the threshold, settlement pulls the amount (docs/prepaid.md); null when off.
      auto_top_up: await readAutoTopUp(ctx.db, { orgId: sub.org_id }).then(
        (a) => a && { threshold: a.threshold.toString(), amount: a.amount.toString() },
      ),
      signup_credit: usd(s.signupCredit),
      // The plan's included allowance this month, as GET /v1/billing shows it (docs/plans.md).
      plan: planView(s.plan),
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
        prepaid: micros(s.prepaid),
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
        kind: c.kind,
        // A package top-up's bonus credit, credited beside it when collected (never pulled).
        bonus_micros: micros(topUps.get(c.id)?.bonus ?? null),
      })),
    })
  })
}
