import { addressUrl } from '../chain/explorer.js'
import { formatUsd, getBillingSummary, listTopUps } from '../ledger/index.js'
import type { Actions } from './actions.js'
import { metered, meteredView } from './metering.js'
import { planView } from './operatorPlanRoutes.js'
import { createSession } from './sessions.js'
import { topUpSummary } from './topUpRoutes.js'

/** Micro-credits as a decimal string and as dollars formatted from integers. */
export const money = (v: bigint | null) =>
  v === null ? null : { micros: v.toString(), usd: formatUsd(v) }

/** The agent's own view of itself and its billing, and its session keys. */
export const agentActions = {
  'GET /v1/whoami': async (_ctx, a) => ({
    status: 200,
    body: { org_id: a.orgId, key_id: a.keyId, role: a.role, address: a.address },
  }),

  // mint_session_key: metered but never refused (agents must never lose their keys).
  'POST /v1/session-keys': async (ctx, auth, { body }) => {
    const ttl = body.ttl_seconds ?? 3600
    const { result, outcome } = await metered(
      ctx,
      auth,
      { action: 'mint_session_key' },
      async () => {
        const s = await createSession(ctx.db, {
          orgId: auth.orgId,
          role: 'member',
          parentKeyId: auth.keyId,
          ttlSeconds: ttl,
          // A session key never outlives the session that mints it (a 60-second key cannot
          // mint a day-long one); minted by an API key, it lives its whole ttl.
          notAfter: auth.expiresAt,
        })
        return { session_key: s.token, expires_at: s.expiresAt }
      },
    )
    return { status: 201, body: { ...result, metered: meteredView(outcome) } }
  },

  'GET /v1/billing': async (ctx, auth) => {
    const [s, [last]] = await Promise.all([
      getBillingSummary(ctx.db, auth.orgId),
      listTopUps(ctx.db, { orgId: auth.orgId, limit: 1 }),
    ])
    return {
      status: 200,
      body: {
        subscription_id: s.subscriptionId,
        status: s.state,
        status_reason: s.stateReason,
        signup_credit: money(s.signupCredit),
        billing_mode: s.billingMode,
        prepaid_balance: money(s.prepaid),
        // The plan's included allowance this UTC month (null: no plan), docs/plans.md.
        plan: planView(s.plan),
        accrued_since_last_charge: money(s.accrued),
        authorization: {
          billing_type: 'usdc_permit',
          owner: s.owner,
          // Who receives every collection (the collector pulls to this fixed address only).
          payee: ctx.chain
            ? {
                address: ctx.chain.deployment.payee,
                explorer_url: addressUrl(ctx.chain.chainId, ctx.chain.deployment.payee),
              }
            : null,
          lifetime_cap: money(s.cap),
          drawn: money(s.drawn),
          remaining: money(s.remaining),
          monthly_budget: money(s.monthlyLimit),
          spent_this_period: money(s.spentThisWindow),
          period_start: s.windowStart,
          period_end: s.windowEnd,
          // Booked charges refused for a monthly budget cut after the usage: each is collected
          // once it fits; one larger than the budget itself waits for the owner to raise it.
          waiting_for_budget: money(s.waitingForLimit),
          budget_too_low: s.limitTooLow,
        },
        // The auto top-up and the last top-up: a failed one says why (`failure_reason`).
        top_up: await topUpSummary(ctx, auth.orgId, last),
        manage_url: `${ctx.config.product.publicBaseUrl}/s/${s.subscriptionId}`,
      },
    }
  },
} satisfies Actions
