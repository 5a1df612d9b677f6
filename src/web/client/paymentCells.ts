// A payment-history row in words, the same on the dashboard and the manage page: a charge the
// collector pulled, or an x402 payment an agent's wallet made, and what it came to.
import { amount, shortAddress } from './ui.js'

/** A row of the payment history, as the API and the manage page's state give it. */
export type PaymentView = {
  kind: 'collector_pull' | 'x402_top_up'
  status: 'collected' | 'failed' | 'settled' | 'pending'
  seq: number | null
  amount_micros: string
  payer: string | null
  reason: string | null
}

/**
 * The "payment" and "amount" cells of a row. `failedWords` words a pull's failure reason.
 * Amounts are formatted from the integer micro-credits.
 */
export function paymentCells(
  p: PaymentView,
  failedWords: (reason: string | null) => string,
): [string | Node, string | Node] {
  if (p.kind === 'collector_pull')
    return [
      `Charge #${p.seq}`,
      p.status === 'collected' ? amount(p.amount_micros) : `failed: ${failedWords(p.reason)}`,
    ]
  const what = document.createElement('span')
  what.append('x402 top-up')
  if (p.payer) {
    const from = document.createElement('code')
    from.textContent = shortAddress(p.payer)
    from.title = p.payer
    what.append(' from ', from)
  }
  if (p.status === 'failed') return [what, `failed: ${p.reason ?? 'not settled'}`]
  const paid = document.createElement('span')
  paid.append(amount(p.amount_micros))
  if (p.status === 'pending') paid.append(' (confirming)')
  return [what, paid]
}
