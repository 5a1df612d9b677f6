import { z } from 'zod'
import { money } from '../api/agentActions.js'
import type { Auth } from '../api/auth.js'
import { budgetView } from '../api/budgetRoutes.js'
import { checkUsage } from '../api/checkUsage.js'
import type { AppContext } from '../api/context.js'
import { manageLinkUrl } from '../api/manageLink.js'
import { planView } from '../api/operatorPlanRoutes.js'
import { usageView } from '../api/usageRoutes.js'
import { getBillingSummary, showBudgets, unitPrice } from '../ledger/index.js'
import { planText } from '../web/client/planLine.js'
import { actionTools, priceOf } from './tools.js'

// The paying agent's own billing, as tools: free and never gated (no meter on the way).

export type BillingTool = {
  name: string
  description: string
  input: z.ZodObject
  run: (ctx: AppContext, auth: Auth, args: Record<string, unknown>) => Promise<object>
}

const asJson = (v: object) => JSON.parse(JSON.stringify(v)) as Record<string, unknown>

const reupUrl = (ctx: AppContext, subscriptionId: string) =>
  `${ctx.config.product.publicBaseUrl}/s/${subscriptionId}`

/** What the owner must do to restore paid work, by state. */
const whatToDo: Record<string, string> = {
  pending:
    'Nothing yet while signup credit remains; once it is used up the owner authorizes billing (signs a USDC permit with a cap) at the link.',
  active:
    'Nothing: paid work is allowed. The owner may raise the cap or monthly limit at the link.',
  needs_reauth:
    "The permit's allowance is used up: the owner signs a fresh permit at the link (same subscription, gap-free).",
  lapsed: 'A permit or payment failed: the owner re-ups at the link (recoverable, same id).',
  canceled: 'The subscription ended (terminal): the owner starts a new one at the link.',
}

/**
 * Whether this caller may do paid work now: the gate's decision for `next_issue`, the caller's
 * key budgets included, nothing recorded.
 */
async function gate(ctx: AppContext, auth: Auth) {
  const c = await checkUsage(ctx, { orgId: auth.orgId, keyId: auth.keyId, action: 'next_issue' })
  return c.allowed
    ? { can_do_paid_work: true, blocked: null }
    : { can_do_paid_work: false, blocked: { code: c.code, reason: c.reason ?? null } }
}

/** The `billing_status` view (also the `tollgate://billing` resource). */
export async function billingStatus(ctx: AppContext, auth: Auth) {
  const [s, g, budgets] = await Promise.all([
    getBillingSummary(ctx.db, auth.orgId),
    gate(ctx, auth),
    showBudgets(ctx.db, { orgId: auth.orgId }),
  ])
  const plan = planView(s.plan)
  return {
    org_id: auth.orgId,
    subscription_id: s.subscriptionId,
    state: s.state,
    state_reason: s.stateReason,
    ...g,
    signup_credit: money(s.signupCredit),
    // The plan's included allowance this month (null: no plan), and the dashboard's line of it.
    plan,
    plan_line: plan && planText(plan),
    accrued: money(s.accrued),
    cap: money(s.cap),
    drawn: money(s.drawn),
    remaining: money(s.remaining),
    monthly_limit: money(s.monthlyLimit),
    spent_this_period: money(s.spentThisWindow),
    period_end: s.windowEnd?.toISOString() ?? null,
    key: { id: auth.keyId, role: auth.role, expires_at: auth.expiresAt?.toISOString() ?? null },
    // The budgets that bind this caller: the org's, and its own key's (a session key counts
    // against its parent key's).
    budgets: budgets
      .filter((b) => b.keyId === null || b.keyId === auth.keyId)
      .map((b) => asJson(budgetView(b))),
    reup_url: reupUrl(ctx, s.subscriptionId),
  }
}

/** Rate-card actions and tool names an estimate accepts. */
const meteredAs: Record<string, string> = {
  save_issue: 'save_issue.create',
  next_batch: 'next_batch',
}

export const billingTools: BillingTool[] = [
  {
    name: 'billing_status',
    description:
      'Where your org stands: state, whether paid work is allowed (and why not), signup credit, the plan’s included allowance this month, accrued, cap, remaining, monthly limit and spent, your key and the budgets that bind it. Free, never gated.',
    input: z.strictObject({}),
    run: billingStatus,
  },
  {
    name: 'estimate_cost',
    description:
      'Price a plan before running it: items, each an action (a tool name or a rate-card action such as save_issue.edit_status) and a quantity → price each and in total, and whether each is allowed now and why not. Records nothing. Free, never gated.',
    input: z.strictObject({
      items: z
        .array(
          z.strictObject({
            action: z.string().min(1).max(64),
            quantity: z.number().int().min(1).max(10_000).optional(),
          }),
        )
        .min(1)
        .max(100),
    }),
    run: async (ctx, auth, args) => {
      const items = args.items as { action: string; quantity?: number }[]
      let total = 0n
      const out = []
      for (const item of items) {
        const quantity = item.quantity ?? 1
        const action = meteredAs[item.action] ?? item.action
        if (unitPrice(ctx.config.rateCard, action) === undefined) {
          // A read (a tool with no price) is free and always allowed; anything else is unknown.
          const known = actionTools.some((t) => t.name === item.action && !t.write)
          out.push(
            known
              ? { action: item.action, quantity, price: money(0n), allowed: true, free: 'read' }
              : { action: item.action, quantity, error: 'UNKNOWN_ACTION' },
          )
          continue
        }
        const c = await checkUsage(ctx, { orgId: auth.orgId, keyId: auth.keyId, action, quantity })
        total += c.priceMicros
        out.push({
          action: item.action,
          metered_as: action,
          quantity,
          unit_price: priceOf(ctx.config.rateCard, action),
          price: money(c.priceMicros),
          allowed: c.allowed,
          ...(c.allowed ? { free: c.free } : { code: c.code, reason: c.reason ?? null }),
        })
      }
      return {
        items: out,
        total: money(total),
        all_allowed: out.every((i) => 'allowed' in i && i.allowed),
        rate_version: ctx.config.rateCard.version,
      }
    },
  },
  {
    name: 'usage',
    description:
      'Your org’s metered usage (the same view as GET /v1/billing/usage): per UTC day, by action, tier and key, against the monthly limit and the cap. period: 7d, 30d (default), window (this billing period) or custom with from and to (YYYY-MM-DD, at most 366 days). Free, never gated.',
    input: z.strictObject({
      period: z.enum(['7d', '30d', 'window', 'custom']).optional(),
      from: z.string().max(10).optional().describe('YYYY-MM-DD (period custom)'),
      to: z.string().max(10).optional().describe('YYYY-MM-DD (period custom)'),
    }),
    run: async (ctx, auth, args) =>
      (await usageView(ctx, auth, { params: {}, body: undefined, query: args })).body,
  },
  {
    name: 'reauth_link',
    description:
      'The re-up link (/s/<subscription_id>) and what the org’s owner must do there to restore paid work. Free, never gated.',
    input: z.strictObject({}),
    run: async (ctx, auth) => {
      const [s, g] = await Promise.all([getBillingSummary(ctx.db, auth.orgId), gate(ctx, auth)])
      const owner = auth.role === 'owner' || auth.role === 'admin'
      return {
        subscription_id: s.subscriptionId,
        state: s.state,
        needed: !g.can_do_paid_work,
        blocked: g.blocked,
        url: reupUrl(ctx, s.subscriptionId),
        what_to_do: whatToDo[s.state] ?? 'The owner opens the link.',
        // Only an owner or admin gets the signed, short-lived manage link (as over HTTP).
        ...(owner
          ? { manage_link: manageLinkUrl(ctx.config, s.subscriptionId) }
          : { who: 'only the org owner (or an admin) can act at the link; tell them' }),
      }
    },
  },
]
