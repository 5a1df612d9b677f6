import { BaseError } from '../core/errors.js'
import type { Db } from '../db/client.js'
import { formatUsd } from '../ledger/index.js'
import { subscriptionKey } from '../subscriptions/typedData.js'
import { escapeHtml } from './managePage.js'

/** The owner has not made this subscription's payment history public. */
class HistoryNotPublicError extends BaseError {
  override name = 'HistoryNotPublicError'
  constructor() {
    super('the owner has not made this subscription’s payment history public', {
      code: 'HISTORY_NOT_PUBLIC',
    })
  }
}

/** Whether `subscriptionId`'s payment history is public. */
export async function isHistoryPublic(db: Db, subscriptionId: string): Promise<boolean> {
  const [row] = await db.$client`
    select 1 from public_history where subscription_id = ${subscriptionId}`
  return row !== undefined
}

/**
 * Makes the payment history public or private again; `owner` is the signed-in owner wallet
 * that chose it. Idempotent: setting what is already set changes nothing.
 */
export async function setHistoryPublic(
  db: Db,
  p: { subscriptionId: string; owner: string; public: boolean },
): Promise<void> {
  if (p.public)
    await db.$client`
      insert into public_history (subscription_id, enabled_by)
      values (${p.subscriptionId}, ${p.owner.toLowerCase()})
      on conflict (subscription_id) do nothing`
  else await db.$client`delete from public_history where subscription_id = ${p.subscriptionId}`
}

export type PublicPayment = {
  event: 'Collected' | 'ChargeFailed'
  seq: number
  amountMicros: bigint
  failureReason: string | null
  txHash: string
  blockNumber: bigint
  logIndex: number
  blockTime: Date | null
  explorerUrl: string | null
}

export type PublicHistory = {
  subscriptionId: string
  /** The subscription's id on the collector (`bytes32`), as its events carry it. */
  subscriptionKey: `0x${string}`
  chainId: number | null
  token: string | null
  collector: string | null
  payments: PublicPayment[]
}

/**
 * The subscription's on-chain charges (the collector's `Collected` and `ChargeFailed` events,
 * newest first), with what anyone needs to check each one against the chain alone: the
 * transaction, block and log index, and the collector and subscription key the event names.
 * Throws `HistoryNotPublicError` unless the owner made it public.
 */
export async function readPublicHistory(
  db: Db,
  p: {
    subscriptionId: string
    chain: { chainId: number; token: string; collector: string | undefined } | undefined
    limit?: number
  },
): Promise<PublicHistory> {
  if (!(await isHistoryPublic(db, p.subscriptionId))) throw new HistoryNotPublicError()
  const rows = await db.$client<
    {
      event: PublicPayment['event']
      seq: number
      amount: bigint
      failure_reason: string | null
      tx_hash: string
      block_number: bigint
      log_index: number
      block_time: Date | null
      explorer_url: string | null
    }[]
  >`
    select event, seq, amount, failure_reason, tx_hash, block_number, log_index, block_time, explorer_url
    from payment_history
    where subscription_id = ${p.subscriptionId} and event in ('Collected', 'ChargeFailed')
    order by block_number desc, log_index desc
    limit ${p.limit ?? 500}`
  return {
    subscriptionId: p.subscriptionId,
    subscriptionKey: subscriptionKey(p.subscriptionId),
    chainId: p.chain?.chainId ?? null,
    token: p.chain?.token ?? null,
    collector: p.chain?.collector ?? null,
    payments: rows.map((r) => ({
      event: r.event,
      seq: r.seq,
      amountMicros: BigInt(r.amount),
      failureReason: r.failure_reason,
      txHash: r.tx_hash,
      blockNumber: BigInt(r.block_number),
      logIndex: r.log_index,
      blockTime: r.block_time === null ? null : new Date(r.block_time),
      explorerUrl: r.explorer_url,
    })),
  }
}

/** The JSON form: amounts as integer micro-credit strings and as dollars (never floats). */
export function publicHistoryJson(h: PublicHistory) {
  return {
    subscription_id: h.subscriptionId,
    subscription_key: h.subscriptionKey,
    chain_id: h.chainId,
    token: h.token,
    collector: h.collector,
    payments: h.payments.map((x) => ({
      event: x.event,
      seq: x.seq,
      amount: { micros: x.amountMicros.toString(), usd: formatUsd(x.amountMicros) },
      failure_reason: x.failureReason,
      tx_hash: x.txHash,
      block_number: x.blockNumber.toString(),
      log_index: x.logIndex,
      block_time: x.blockTime?.toISOString() ?? null,
      explorer_url: x.explorerUrl,
    })),
  }
}

/** The HTML form: one server-rendered table, no script, readable on a phone. */
export function publicHistoryHtml(h: PublicHistory, product: string): string {
  const total = h.payments
    .filter((x) => x.event === 'Collected')
    .reduce((sum, x) => sum + x.amountMicros, 0n)
  const rows = h.payments
    .map((x) => {
      const tx = x.explorerUrl
        ? `<a href="${escapeHtml(x.explorerUrl)}">${escapeHtml(x.txHash)}</a>`
        : `<code>${escapeHtml(x.txHash)}</code>`
      const what =
        x.event === 'Collected'
          ? formatUsd(x.amountMicros)
          : `failed (${escapeHtml(x.failureReason ?? 'unknown')})`
      const when = x.blockTime ? x.blockTime.toISOString().replace('T', ' ').slice(0, 19) : ''
      return `<tr data-tx="${escapeHtml(x.txHash)}"><td>${x.seq}</td><td>${what}</td><td>${when}</td><td>${x.blockNumber} / ${x.logIndex}</td><td class="tx">${tx}</td></tr>`
    })
    .join('\n')
  const id = escapeHtml(h.subscriptionId)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(product)} — payment history of subscription ${id}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 0 auto; padding: 1rem; color: #1a1a1a; }
  h1 { font-size: 1.4rem; } table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .2rem .4rem; border-bottom: 1px solid #eee; vertical-align: top; }
  td { font-variant-numeric: tabular-nums; } .tx { overflow-wrap: anywhere; } dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; } dd { margin: 0; overflow-wrap: anywhere; }
</style>
</head>
<body>
<main>
  <h1>${escapeHtml(product)} — payment history</h1>
  <p>Every charge below is an on-chain transaction: the collector's <code>Collected</code> or <code>ChargeFailed</code> event for this subscription. Check any of them against the chain alone.</p>
  <dl>
    <dt>Subscription</dt><dd><code>${id}</code></dd>
    <dt>Subscription key (on-chain)</dt><dd><code>${h.subscriptionKey}</code></dd>
    <dt>Chain id</dt><dd>${h.chainId ?? 'none'}</dd>
    <dt>Collector</dt><dd><code>${escapeHtml(h.collector ?? 'none')}</code></dd>
    <dt>Token (USDC)</dt><dd><code>${escapeHtml(h.token ?? 'none')}</code></dd>
    <dt>Total collected</dt><dd id="total">${formatUsd(total)}</dd>
  </dl>
  <table>
    <caption>On-chain charges, newest first</caption>
    <thead><tr><th scope="col">#</th><th scope="col">Amount</th><th scope="col">Time (UTC)</th><th scope="col">Block / log</th><th scope="col">Transaction</th></tr></thead>
    <tbody id="payments">
${rows || '<tr><td colspan="5">No charges yet.</td></tr>'}
    </tbody>
  </table>
  <p><a href="/s/${id}/history.json">This history as JSON</a></p>
</main>
</body>
</html>`
}
