import { txUrl } from '../chain/explorer.js'
import {
  formatUsd,
  listStatementCharges,
  listStatementRefunds,
  readChargeLines,
  type StatementCharge,
  type StatementRefund,
} from '../ledger/index.js'
import type { AppContext } from './context.js'

/** A statement's totals, each from the ledger's integers: billed − refunded = net. */
export type StatementTotals = {
  /** Usage charges booked this month, as booked (before any refund netted into them). */
  usage: bigint
  /** Prepaid purchases (top-ups) booked this month. */
  prepaidPurchases: bigint
  billed: bigint
  /** Refunds given this month: netted into charges, and what is paid back on-chain. */
  refundedNetted: bigint
  refundedOnchain: bigint
  refunded: bigint
  net: bigint
  /** Of this month's charges, what the collector pulled (after netting). */
  collected: bigint
  /** What this month's top-ups credited to the prepaid balance (their price). */
  prepaidCredited: bigint
  /** What this month's package top-ups credited beside it as bonus (never pulled). */
  prepaidBonus: bigint
}

const sum = <T>(xs: T[], f: (x: T) => bigint) => xs.reduce((s, x) => s + f(x), 0n)

/**
 * One UTC month's statement: the charges booked that month (usage charges with their usage
 * lines, top-ups as prepaid purchases with what they credited), the refunds given that month
 * (what each was netted into, what was paid back on-chain) and the totals, in micro-credits.
 * See docs/prepaid.md (Statements).
 */
export async function loadStatement(ctx: AppContext, orgId: string, month: string) {
  const [y, m] = month.split('-').map(Number) as [number, number]
  const from = new Date(Date.UTC(y, m - 1, 1)).toISOString()
  const to = new Date(Date.UTC(y, m, 1)).toISOString()
  const [charges, refunds] = await Promise.all([
    listStatementCharges(ctx.db, { orgId, from, to }),
    listStatementRefunds(ctx.db, { orgId, from, to }),
  ])
  const lines = await readChargeLines(
    ctx.db,
    charges.filter((c) => c.kind === 'usage').map((c) => c.id),
  )
  const chainId = ctx.chain?.chainId
  const explorer = (hash: string | null) =>
    hash && chainId !== undefined ? txUrl(chainId, hash) : null
  const usage = sum(
    charges.filter((c) => c.kind === 'usage'),
    (c) => c.billed,
  )
  const prepaidPurchases = sum(
    charges.filter((c) => c.kind === 'topup'),
    (c) => c.billed,
  )
  const refunded = sum(refunds, (r) => r.amount)
  const totals: StatementTotals = {
    usage,
    prepaidPurchases,
    billed: usage + prepaidPurchases,
    refundedNetted: sum(refunds, (r) => r.netted),
    refundedOnchain: sum(refunds, (r) => r.owedOnchain),
    refunded,
    net: usage + prepaidPurchases - refunded,
    collected: sum(
      charges.filter((c) => c.status === 'collected'),
      (c) => c.amount,
    ),
    prepaidCredited: sum(charges, (c) => c.prepaidCredited ?? 0n),
    prepaidBonus: sum(charges, (c) => c.bonusCredited ?? 0n),
  }
  return { charges, refunds, lines, totals, explorer }
}

const money = (v: bigint | null) =>
  v === null ? null : { micros: v.toString(), usd: formatUsd(v) }

/** The statement's JSON body (`GET /v1/billing/statements/<yyyy-mm>`, the manage page's). */
export function statementBody(
  month: string,
  s: Awaited<ReturnType<typeof loadStatement>>,
): Record<string, unknown> {
  const t = s.totals
  return {
    month,
    total: money(t.net),
    collected: money(t.collected),
    totals: {
      usage: money(t.usage),
      prepaid_purchases: money(t.prepaidPurchases),
      billed: money(t.billed),
      refunded_netted: money(t.refundedNetted),
      refunded_onchain: money(t.refundedOnchain),
      refunded: money(t.refunded),
      net: money(t.net),
      collected: money(t.collected),
      prepaid_credited: money(t.prepaidCredited),
      prepaid_bonus: money(t.prepaidBonus),
    },
    csv_url: `/v1/billing/statements/${month}.csv`,
    charges: s.charges.map((c) => ({
      kind: c.kind,
      seq: c.seq,
      subscription_id: c.subscriptionId,
      window_index: c.windowIndex,
      booked_at: c.bookedAt,
      updated_at: c.updatedAt,
      status: c.status,
      failure_reason: c.failureReason,
      billed: money(c.billed),
      netted: money(c.netted),
      amount: money(c.amount),
      prepaid_credited: money(c.prepaidCredited),
      bonus_credited: money(c.bonusCredited),
      tx_hash: c.txHash,
      explorer_url: s.explorer(c.txHash),
      lines: (s.lines.get(c.id) ?? []).map((l) => ({
        action: l.action,
        calls: Number(l.calls),
        quantity: Number(l.quantity),
        amount: money(l.billable),
      })),
    })),
    refunds: s.refunds.map((r) => ({
      id: r.id,
      created_at: r.createdAt,
      charge_seq: r.chargeSeq,
      usage_lines: r.usageLines,
      amount: money(r.amount),
      netted: money(r.netted),
      netted_into: r.nettedInto.map((n) => ({ charge_seq: n.chargeSeq, amount: money(n.amount) })),
      owed_onchain: money(r.owedOnchain),
      payout_status: r.payoutStatus,
      tx_hash: r.payoutTxHash,
      explorer_url: s.explorer(r.payoutTxHash),
      reason: r.reason,
    })),
  }
}

/** A CSV field: quoted when it holds a comma, quote or line break; never read as a formula. */
const csv = (v: string | number | null) => {
  let s = v === null ? '' : String(v)
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

const HEADER =
  'month,kind,charge_seq,subscription_id,at,status,amount_usd,amount_micros,tx_hash,explorer_url,line_action,line_calls,line_quantity,line_usd,line_micros,refund_id,note'

/**
 * The statement as CSV, one row per usage line (kind `usage`), per prepaid purchase
 * (`prepaid_purchase`), per refund (`refund`, its amount given back), then the totals
 * (`total_billed`, `total_refunded`, `total_net`). Amounts are positive; `kind` says which way.
 */
export function statementCsv(month: string, s: Awaited<ReturnType<typeof loadStatement>>): string {
  const rows = [HEADER]
  const row = (cells: (string | number | null)[]) => rows.push(cells.map(csv).join(','))
  const noLine = [null, null, null, null, null]
  const charge = (c: StatementCharge, kind: string) =>
    [month, kind, c.seq, c.subscriptionId, c.bookedAt, c.status] as (string | number | null)[]
  const amount = (v: bigint) => [formatUsd(v), v.toString()]
  for (const c of s.charges) {
    const tx = [c.txHash, s.explorer(c.txHash)]
    if (c.kind === 'topup') {
      const bonus = c.bonusCredited === null ? '' : ` + ${formatUsd(c.bonusCredited)} bonus`
      const note =
        c.prepaidCredited === null
          ? 'prepaid purchase, not yet credited'
          : `prepaid purchase, ${formatUsd(c.prepaidCredited)} credited${bonus}`
      row([...charge(c, 'prepaid_purchase'), ...amount(c.billed), ...tx, ...noLine, null, note])
      continue
    }
    const note =
      c.netted > 0n ? `refunds netted ${formatUsd(c.netted)}: pulled ${formatUsd(c.amount)}` : null
    const lines = s.lines.get(c.id) ?? []
    if (lines.length === 0)
      row([...charge(c, 'usage'), ...amount(c.billed), ...tx, ...noLine, null, note])
    for (const l of lines)
      row([
        ...charge(c, 'usage'),
        ...amount(c.billed),
        ...tx,
        l.action,
        l.calls.toString(),
        l.quantity.toString(),
        ...amount(l.billable),
        null,
        note,
      ])
  }
  for (const r of s.refunds) row(refundRow(month, r, s.explorer))
  const total = (kind: string, v: bigint) =>
    row([month, kind, null, null, null, null, ...amount(v), null, null, ...noLine, null, null])
  total('total_billed', s.totals.billed)
  total('total_refunded', s.totals.refunded)
  total('total_net', s.totals.net)
  return `${rows.join('\r\n')}\r\n`
}

function refundRow(
  month: string,
  r: StatementRefund,
  explorer: (hash: string | null) => string | null,
): (string | number | null)[] {
  const parts = r.nettedInto.map((n) => `${formatUsd(n.amount)} netted into charge #${n.chargeSeq}`)
  if (r.owedOnchain > 0n)
    parts.push(
      `${formatUsd(r.owedOnchain)} ${r.payoutStatus === 'paid' ? 'paid back on-chain' : 'to be paid back on-chain'}`,
    )
  return [
    month,
    'refund',
    r.chargeSeq,
    null,
    r.createdAt,
    r.payoutStatus === 'paid' ? 'paid' : r.owedOnchain > 0n ? 'owed_onchain' : 'netted',
    formatUsd(r.amount),
    r.amount.toString(),
    r.payoutTxHash,
    explorer(r.payoutTxHash),
    null,
    null,
    null,
    null,
    null,
    r.id,
    `${parts.join('; ')} — ${r.reason}`,
  ]
}
