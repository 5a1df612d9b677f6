// The dashboard: Sign-In with Ethereum (or a member's API key), the Billing card in words and
// dollars, usage charts, payment history, the charges ledger and monthly statements.

import { getAddress } from 'viem'
import { budgetsCard } from './budgets.js'
import { ledgerNote } from './ledgerNote.js'
import { type PaymentView, paymentCells } from './paymentCells.js'
import { showPlan } from './showPlan.js'
import { renderStatement, type StatementView } from './statement.js'
import {
  $,
  amount,
  copyable,
  fillTable,
  networkName,
  plainError,
  setAmount,
  signInWithEthereum,
  stateWords,
} from './ui.js'
import { renderUsage, type UsageView } from './usage.js'
import { webhooksCard } from './webhooks.js'

type Money = { micros: string; usd: string }
let token: string | null = null

function say(text: string, error = false) {
  const m = $('#message')
  m.textContent = text
  m.className = error ? 'error' : ''
}

async function call(path: string, body?: unknown, method?: string): Promise<Response> {
  return await fetch(`/v1${path}`, {
    method: method ?? (body ? 'POST' : 'GET'),
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  })
}
// biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read field by field below
async function api(path: string, body?: unknown, method?: string): Promise<any> {
  const res = await call(path, body, method)
  const json = await res.json()
  if (!res.ok) throw new Error(json.error?.message ?? res.statusText)
  return json
}

const webhooks = webhooksCard({
  send: (method, path, body) => api(path, body, method),
  say,
})
const budgets = budgetsCard({
  send: (method, path, body) => api(path, body, method),
  say,
})

async function load() {
  const me = await api('/whoami')
  const controls = me.role === 'owner' || me.role === 'admin'
  // Only an owner (or an admin the owner added) changes billing or opens the manage link;
  // members see the status, not the controls.
  $('#manage').hidden = !controls
  // The header names who signed in, once; the note says only what the role may do.
  $('#role-note').textContent = controls
    ? `You are ${me.role === 'owner' ? 'the owner' : 'an admin'}: you can change billing.`
    : 'You are a member: you see the billing status; only an owner can change billing.'
  if (me.address) $('#who').replaceChildren('Signed in as ', copyable(getAddress(me.address)))
  const b = await api('/billing')
  const words = stateWords(b.status, b.status_reason ?? null)
  const badge = $('#b-status')
  badge.textContent = words.label
  badge.dataset.state = b.status
  $('#b-status-words').textContent = words.words
  const a = b.authorization
  $('#b-payee').replaceChildren(
    a.payee ? copyable(a.payee.address, a.payee.explorer_url) : 'no chain connected',
  )
  setAmount('#b-credit', b.signup_credit.micros)
  // The plan's included allowance: "$0.40 of $1.00 used, renews 1 Jan" (docs/plans.md).
  showPlan('#b-included', b.plan)
  setAmount('#b-accrued', b.accrued_since_last_charge.micros)
  setAmount('#b-cap', a.lifetime_cap.micros)
  setAmount('#b-drawn', a.drawn.micros)
  setAmount('#b-remaining', a.remaining.micros)
  setAmount('#b-budget', a.monthly_budget ? a.monthly_budget.micros : null, 'no limit')
  const waiting = a.waiting_for_budget as Money
  for (const e of Array.from(document.querySelectorAll<HTMLElement>('.waiting')))
    e.hidden = waiting.micros === '0'
  $('#b-waiting').replaceChildren(
    amount(waiting.micros),
    a.budget_too_low
      ? ' — larger than the monthly budget: it is collected once the owner raises the budget'
      : ' — collected once it fits the budget',
  )
  const p = await api('/billing/payments')
  // biome-ignore lint/suspicious/noExplicitAny: API rows
  const payments = p.payments.map((x: any) => ({
    ...x,
    amount_micros: x.amount.micros,
    reason: x.failure_reason,
  }))
  fillTable(
    '#payments',
    payments.map((x: PaymentView & { tx_hash: string; explorer_url: string | null }) => [
      ...paymentCells(x, (reason) => reason ?? 'unknown'),
      copyable(x.tx_hash, x.explorer_url),
    ]),
    'No on-chain payments yet.',
    3,
  )
  payments.forEach((x: { tx_hash: string }, i: number) => {
    ;($('#payments').children[i] as HTMLElement).dataset.tx = x.tx_hash
  })
  const l = await api(
    '/billing/transactions?type=charge_booked,charge_collected,charge_failed,write_off,refund',
  )
  const kinds: Record<string, string> = {
    charge_booked: 'Charge booked',
    charge_collected: 'Charge collected',
    charge_failed: 'Charge failed',
    write_off: 'Written off',
    refund: 'Refund',
  }
  fillTable(
    '#ledger',
    // biome-ignore lint/suspicious/noExplicitAny: API rows
    l.transactions.map((x: any) => [
      kinds[x.kind] ?? x.kind,
      amount(x.amount.micros),
      ledgerNote(x.description),
    ]),
    'No charges yet.',
    3,
  )
  $('#billing').hidden = false
  $('#history').hidden = false
  $('#usage').hidden = false
  await loadUsage()
  // Webhook endpoints are the owner's and admins' (the API refuses members).
  $('#webhooks').hidden = true
  $('#budgets').hidden = true
  if (controls) await Promise.all([webhooks.load(), budgets.load()])
}

async function loadUsage() {
  const period = ($('#period') as HTMLSelectElement).value
  $('#custom-range').hidden = period !== 'custom'
  let q = `period=${period}`
  if (period === 'custom') {
    const from = ($('#from') as HTMLInputElement).value
    const to = ($('#to') as HTMLInputElement).value
    if (!from || !to) return
    q += `&from=${from}&to=${to}`
  }
  renderUsage((await api(`/billing/usage?${q}`)) as UsageView)
}

async function pickers() {
  const w = await api('/wallet/orgs')
  const select = $('#org') as HTMLSelectElement
  select.replaceChildren()
  for (const o of w.orgs) {
    const opt = document.createElement('option')
    opt.value = o.id
    opt.textContent = o.name + (o.role === 'admin' ? ' (admin)' : '')
    opt.selected = o.id === w.current
    select.append(opt)
  }
  $('#org-picker').hidden = w.orgs.length < 2
}

const guard = (fn: () => Promise<void>) => async () => {
  try {
    await fn()
  } catch (e) {
    say(plainError(e), true)
  }
}

$('#signin').addEventListener(
  'click',
  guard(async () => {
    const { nonce } = await api('/auth/nonce')
    const signed = await signInWithEthereum({
      nonce,
      statement: 'Sign in to the billing dashboard.',
    })
    $('#network').textContent = networkName(signed.chainId)
    token = (await api('/auth/siwe', { message: signed.message, signature: signed.signature }))
      .token
    await load()
    await pickers()
    $('#signin-forms').hidden = true
    say('')
  }),
)

$('#org').addEventListener(
  'change',
  guard(async () => {
    const select = $('#org') as HTMLSelectElement
    token = (await api('/wallet/switch', { org_id: select.value })).token
    await load()
    say(`Showing ${select.selectedOptions[0]?.textContent}.`)
  }),
)

$('#keyform').addEventListener('submit', (ev) => {
  ev.preventDefault()
  const input = $('#apikey') as HTMLInputElement
  token = input.value.trim()
  input.value = ''
  load().then(
    () => {
      $('#signin-forms').hidden = true
    },
    (e) => {
      token = null
      say(plainError(e), true)
    },
  )
})

$('#manage').addEventListener(
  'click',
  guard(async () => {
    location.href = (await api('/billing/manage-link', {})).url
  }),
)

$('#period').addEventListener('change', guard(loadUsage))
$('#apply-range').addEventListener('click', guard(loadUsage))

const monthInput = $('#month') as HTMLInputElement
monthInput.value = new Date().toISOString().slice(0, 7)

$('#show-statement').addEventListener(
  'click',
  guard(async () => {
    renderStatement((await api(`/billing/statements/${monthInput.value}`)) as StatementView)
  }),
)

// The CSV needs the same credentials as the page: fetched, then saved as a file.
$('#statement-csv').addEventListener(
  'click',
  (ev) =>
    void guard(async () => {
      ev.preventDefault()
      const res = await call(`/billing/statements/${monthInput.value}.csv`)
      if (!res.ok) throw new Error('the statement could not be downloaded')
      const a = document.createElement('a')
      a.href = URL.createObjectURL(await res.blob())
      a.download = `statement-${monthInput.value}.csv`
      a.click()
      URL.revokeObjectURL(a.href)
    })(),
)
