// A monthly statement, on the dashboard and the manage page alike, from
// `GET /v1/billing/statements/<yyyy-mm>`: usage charges with their lines, prepaid purchases with
// what they credited, refunds (netted into which charge, or paid back on-chain) and the totals.
import { $, amount, copyable, dateTime, fillTable } from './ui.js'

type Money = { micros: string; usd: string }
/** The part of a statement's JSON the page shows. */
export type StatementView = {
  totals: {
    usage: Money
    prepaid_purchases: Money
    billed: Money
    refunded_netted: Money
    refunded_onchain: Money
    refunded: Money
    net: Money
    collected: Money
    prepaid_credited: Money
    prepaid_bonus: Money
  }
  charges: {
    kind: 'usage' | 'topup'
    seq: number
    booked_at: string
    billed: Money
    netted: Money
    amount: Money
    prepaid_credited: Money | null
    bonus_credited: Money | null
    tx_hash: string | null
    explorer_url: string | null
    lines: { action: string; quantity: number; amount: Money }[]
  }[]
  refunds: {
    created_at: string
    charge_seq: number | null
    amount: Money
    netted_into: { charge_seq: number; amount: Money }[]
    owed_onchain: Money
    payout_status: string | null
    tx_hash: string | null
    explorer_url: string | null
    reason: string
  }[]
}

const words = (...parts: (string | Node)[]) => {
  const el = document.createElement('span')
  el.append(...parts)
  return el
}

/** Draws a table into `#statement`'s `wrap`, with its own body id. */
function table(head: string[], bodyId: string): HTMLElement {
  const t = document.createElement('table')
  // On a phone each row stacks, its cells labelled by their column (style.css, table.stacked).
  t.className = 'stacked'
  t.innerHTML = `<thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead><tbody id="${bodyId}"></tbody>`
  const wrap = document.createElement('div')
  wrap.className = 'scroll'
  wrap.tabIndex = 0
  wrap.append(t)
  return wrap
}

/**
 * Draws `s` into `#statement`: the month's totals (billed − refunded = net), one row per charge
 * (`#statement-rows`: usage with its lines, or a prepaid purchase), one per refund
 * (`#statement-refunds`).
 */
export function renderStatement(s: StatementView) {
  const t = s.totals
  const total = document.createElement('p')
  total.id = 'statement-totals'
  total.append(
    'Billed ',
    amount(t.billed.micros),
    ' (usage ',
    amount(t.usage.micros),
    ', prepaid purchases ',
    amount(t.prepaid_purchases.micros),
    ') − refunded ',
    amount(t.refunded.micros),
    ' (netted ',
    amount(t.refunded_netted.micros),
    ', paid back on-chain ',
    amount(t.refunded_onchain.micros),
    ') = net ',
    amount(t.net.micros),
    '. Collected ',
    amount(t.collected.micros),
    '; prepaid credited ',
    amount(t.prepaid_credited.micros),
    ...(t.prepaid_bonus.micros === '0' ? [] : [' + bonus ', amount(t.prepaid_bonus.micros)]),
    '.',
  )
  const charges = table(['Charge', 'Booked', 'Amount', 'What', 'Transaction'], 'statement-rows')
  const refunds = table(['Given', 'Refunded', 'Where it went', 'Transaction'], 'statement-refunds')
  $('#statement').replaceChildren(total, charges, refunds)
  fillTable(
    '#statement-rows',
    s.charges.map((c) => [
      `#${c.seq}`,
      dateTime(new Date(c.booked_at)),
      c.netted.micros === '0'
        ? amount(c.amount.micros)
        : words(
            amount(c.billed.micros),
            ' − refund ',
            amount(c.netted.micros),
            ' = ',
            amount(c.amount.micros),
          ),
      c.kind === 'topup'
        ? c.prepaid_credited
          ? words(
              'Prepaid purchase: ',
              amount(c.prepaid_credited.micros),
              ' credited',
              ...(c.bonus_credited ? [' + ', amount(c.bonus_credited.micros), ' bonus'] : []),
            )
          : 'Prepaid purchase (credited once collected)'
        : c.lines.map((l) => `${l.action} × ${l.quantity}: ${l.amount.usd}`).join('; '),
      c.tx_hash ? copyable(c.tx_hash, c.explorer_url) : 'not yet sent',
    ]),
    'No charges this month.',
    5,
  )
  fillTable(
    '#statement-refunds',
    s.refunds.map((r) => {
      const where: (string | Node)[] = []
      for (const n of r.netted_into)
        where.push(
          where.length ? '; ' : '',
          amount(n.amount.micros),
          ` off charge #${n.charge_seq}`,
        )
      if (r.owed_onchain.micros !== '0')
        where.push(
          where.length ? '; ' : '',
          amount(r.owed_onchain.micros),
          r.payout_status === 'paid'
            ? ' paid back to your wallet'
            : ' to be paid back to your wallet',
        )
      return [
        dateTime(new Date(r.created_at)),
        words(amount(r.amount.micros), r.charge_seq === null ? '' : ` of charge #${r.charge_seq}`),
        words(...where, ` — ${r.reason}`),
        r.tx_hash ? copyable(r.tx_hash, r.explorer_url) : '—',
      ]
    }),
    'No refunds this month.',
    4,
  )
}
