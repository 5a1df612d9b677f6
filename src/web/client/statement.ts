// A monthly statement, on the dashboard and the manage page alike: every charge booked that
// month with its usage lines and its transaction, from `GET /v1/billing/statements/<yyyy-mm>`.
import { $, amount, copyable, dateTime, fillTable } from './ui.js'

type Money = { micros: string; usd: string }
/** The part of a statement's JSON the table shows. */
export type StatementView = {
  total: Money
  collected: Money
  charges: {
    seq: number
    booked_at: string
    amount: Money
    tx_hash: string | null
    explorer_url: string | null
    lines: { action: string; quantity: number; amount: Money }[]
  }[]
}

/** Draws `s` into `#statement`: the month's totals, then one row per charge (`#statement-rows`). */
export function renderStatement(s: StatementView) {
  const total = document.createElement('p')
  total.append(
    `${s.charges.length} charge${s.charges.length === 1 ? '' : 's'}: `,
    amount(s.total.micros),
    ' booked, ',
    amount(s.collected.micros),
    ' collected.',
  )
  const table = document.createElement('table')
  table.innerHTML =
    '<thead><tr><th scope="col">#</th><th scope="col">Booked</th><th scope="col">Amount</th><th scope="col">Usage</th><th scope="col">Transaction</th></tr></thead><tbody id="statement-rows"></tbody>'
  const wrap = document.createElement('div')
  wrap.className = 'scroll'
  wrap.tabIndex = 0
  wrap.append(table)
  $('#statement').replaceChildren(total, wrap)
  fillTable(
    '#statement-rows',
    s.charges.map((c) => [
      String(c.seq),
      dateTime(new Date(c.booked_at)),
      amount(c.amount.micros),
      c.lines.map((l) => `${l.action} × ${l.quantity}: ${l.amount.usd}`).join('; '),
      c.tx_hash ? copyable(c.tx_hash, c.explorer_url) : 'not yet sent',
    ]),
    'No charges this month.',
    5,
  )
}
