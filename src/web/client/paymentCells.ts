// A payment-history row in words, the same on the dashboard and the manage page: a charge the
// collector pulled, an x402 payment an agent's wallet made, or a refund paid back to the owner,
// and what it came to.
import { amount, shortAddress } from './ui.js'

/** A row of the payment history, as the API and the manage page's state give it. */
export type PaymentView = {
  kind: 'collector_pull' | 'x402_top_up' | 'refund_payout'
  status: 'collected' | 'failed' | 'settled' | 'pending' | 'paid'
  seq: number | null
  amount_micros: string
  payer: string | null
  /** A refund payout's owner wallet. */
  recipient: string | null
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
  if (p.kind === 'refund_payout') return refundCells(p)
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

/**
 * A refund paid back from the payee wallet: money returning to the owner, so the amount carries
 * a plus sign and says where it went ("+$0.015000 back to 0x12…ab").
 */
function refundCells(p: PaymentView): [Node, string | Node] {
  const what = document.createElement('span')
  what.append('Refund paid back')
  if (p.recipient) {
    const to = document.createElement('code')
    to.textContent = shortAddress(p.recipient)
    to.title = p.recipient
    what.append(' to ', to)
  }
  if (p.status === 'failed') return [what, `failed: ${p.reason ?? 'not sent'}, to be sent again`]
  const back = document.createElement('span')
  back.className = 'refund'
  back.append('+', amount(p.amount_micros), ' back to the owner')
  if (p.status === 'pending') back.append(' (confirming)')
  return [what, back]
}
