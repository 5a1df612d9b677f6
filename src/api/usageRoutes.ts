import { Router } from 'express'
import { ValidationError } from '../core/errors.js'
import {
  formatUsd,
  getBillingSummary,
  readUsageRollup,
  tierOf,
  type UsageTotals,
} from '../ledger/index.js'
import type { ActionReply } from './actions.js'
import { type Auth, authOf } from './auth.js'
import type { AppContext } from './context.js'
import { listApiKeys } from './keys.js'
import type { RawInput } from './parseOperationInput.js'
import { statementParams, usageQuery } from './schemas/usageSchemas.js'
import { serve } from './serve.js'
import { loadStatement, statementBody, statementCsv } from './statements.js'

const DAY_MS = 86_400_000
const MAX_DAYS = 366
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const dayMs = (d: string) => {
  const ms = Date.parse(`${d}T00:00:00Z`)
  if (Number.isNaN(ms) || isoDay(ms) !== d) throw new ValidationError(`${d} is not a day`)
  return ms
}
const money = (v: bigint | null) =>
  v === null ? null : { micros: v.toString(), usd: formatUsd(v) }
const zero: UsageTotals = { calls: 0n, quantity: 0n, voucher: 0n, billable: 0n }
const totalsView = (t: UsageTotals) => ({
  calls: Number(t.calls),
  quantity: Number(t.quantity),
  voucher: money(t.voucher),
  billable: money(t.billable),
  total: money(t.voucher + t.billable),
})
const add = (a: UsageTotals, b: UsageTotals): UsageTotals => ({
  calls: a.calls + b.calls,
  quantity: a.quantity + b.quantity,
  voucher: a.voucher + b.voucher,
  billable: a.billable + b.billable,
})
const byBillable = <T extends { t: UsageTotals }>(a: T, b: T) =>
  a.t.billable + a.t.voucher > b.t.billable + b.t.voucher ? -1 : 1

/**
 * Usage views for owners, members, the CLI and agents alike: `GET /v1/billing/usage` (spend per
 * day against the monthly limit, the cap drawn down, usage by action, tier and API key, from the
 * usage rollup) and monthly statements (`GET /v1/billing/statements/<yyyy-mm>[.csv]`: usage
 * charges with their lines, prepaid purchases, refunds and totals).
 */
export function usageRouter(ctx: AppContext): Router {
  const r = Router()

  serve(ctx, r, 'GET /v1/billing/usage', async (_req, res, { query }) => {
    const out = await usageView(ctx, authOf(res), { params: {}, body: undefined, query })
    res.json(out.body)
  })
  serve(ctx, r, 'GET /v1/billing/statements/{month}', async (_req, res, { params }) => {
    const file = params.month
    if (!file.endsWith('.csv')) {
      const out = await statementView(ctx, authOf(res), {
        params: { month: file },
        body: undefined,
        query: {},
      })
      return void res.json(out.body)
    }
    const month = file.slice(0, 7)
    const body = statementCsv(month, await loadStatement(ctx, authOf(res).orgId, month))
    res
      .type('text/csv; charset=utf-8')
      .setHeader('content-disposition', `attachment; filename="statement-${month}.csv"`)
    res.send(body)
  })

  return r
}

/**
 * `GET /v1/billing/statements/<yyyy-mm>` as an action (also the manage page's statement): the
 * month's usage charges with their lines, prepaid purchases, refunds and totals (statements.ts).
 */
export const statementView = async (
  ctx: AppContext,
  auth: Auth,
  input: RawInput,
): Promise<ActionReply> => {
  const month = statementParams.month.parse(input.params.month).slice(0, 7)
  return { status: 200, body: statementBody(month, await loadStatement(ctx, auth.orgId, month)) }
}

/**
 * `GET /v1/billing/usage` as an action (also the MCP `usage` tool): spend per day against the
 * monthly limit, the cap drawn down, usage by action, tier and API key, from the usage rollup.
 */
export const usageView = async (
  ctx: AppContext,
  auth: Auth,
  input: RawInput,
): Promise<ActionReply> => ({
  status: 200,
  body: await usageReport(ctx, auth.orgId, input.query),
})

/** What `GET /v1/billing/usage` answers for an org; `tollgate billing usage` prints the same. */
export type UsageReport = Awaited<ReturnType<typeof usageReport>>

/**
 * The body of `GET /v1/billing/usage` for an org and a query (`period`, `from`, `to`), read from
 * the usage rollup (docs/metering.md): shared by the route, the MCP tool and the CLI.
 */
export async function usageReport(
  ctx: Pick<AppContext, 'db' | 'config'>,
  orgId: string,
  query: Record<string, unknown>,
) {
  const q = usageQuery.parse(query)
  const period = q.period ?? (q.from || q.to ? 'custom' : '30d')
  if (period !== 'custom' && (q.from || q.to))
    throw new ValidationError('from and to go with period=custom')
  const s = await getBillingSummary(ctx.db, orgId)
  const today = dayMs(isoDay(Date.now()))
  let from: number
  let to = today
  if (period === 'custom') {
    if (!q.from || !q.to) throw new ValidationError('period=custom takes from and to (YYYY-MM-DD)')
    from = dayMs(q.from)
    to = dayMs(q.to)
    if (from > to) throw new ValidationError('from is after to')
    if ((to - from) / DAY_MS + 1 > MAX_DAYS)
      throw new ValidationError(`a custom period is at most ${MAX_DAYS} days`)
  } else if (period === 'window' && s.windowStart && s.windowEnd) {
    from = dayMs(isoDay(s.windowStart.getTime()))
    to = Math.min(today, dayMs(isoDay(s.windowEnd.getTime() - 1)))
  } else from = today - ((period === '7d' ? 7 : 30) - 1) * DAY_MS

  const rollup = await readUsageRollup(ctx.db, { orgId, from: isoDay(from), to: isoDay(to) })
  const days = []
  let total = zero
  for (let ms = from; ms <= to; ms += DAY_MS) {
    const t = rollup.byDay.get(isoDay(ms)) ?? zero
    total = add(total, t)
    days.push({ day: isoDay(ms), ...totalsView(t) })
  }
  const tiers = new Map<string, UsageTotals>()
  const actions = [...rollup.byAction].map(([action, t]) => {
    const tier = tierOf(ctx.config.rateCard, action) ?? 'unpriced'
    tiers.set(tier, add(tiers.get(tier) ?? zero, t))
    return { action, tier, t }
  })
  const keys = new Map((await listApiKeys(ctx.db, orgId)).map((k) => [k.id, k]))
  return {
    period: { kind: period, from: isoDay(from), to: isoDay(to), time_zone: 'UTC' },
    window: {
      start: s.windowStart?.toISOString() ?? null,
      end: s.windowEnd?.toISOString() ?? null,
      monthly_limit: money(s.monthlyLimit),
      spent: money(s.spentThisWindow),
    },
    cap: {
      lifetime_cap: money(s.cap),
      drawn: money(s.drawn),
      booked: money(s.booked),
      accrued: money(s.accrued),
      remaining: money(s.remaining),
    },
    signup_credit: money(s.signupCredit),
    totals: totalsView(total),
    days,
    by_action: actions
      .sort(byBillable)
      .map(({ action, tier, t }) => ({ action, tier, ...totalsView(t) })),
    by_tier: [...tiers]
      .map(([tier, t]) => ({ tier, t }))
      .sort(byBillable)
      .map(({ tier, t }) => ({ tier, ...totalsView(t) })),
    by_key: [...rollup.byKey]
      .map(([id, t]) => ({ id, t }))
      .sort(byBillable)
      .map(({ id, t }) => {
        const k = keys.get(id)
        return {
          key_id: id === '' ? null : id,
          prefix: k?.prefix ?? null,
          label: id === '' ? 'no API key (owner or unattributed)' : (k?.label ?? null),
          ...totalsView(t),
        }
      }),
  }
}
