// The hosted manage page `/s/<subscription_id>`: plain words before every signature, the
// outcome and transaction after every action, and only the controls the state allows.

import { USD_AMOUNT_PATTERN } from '../../core/microsOfUsd.js'
import { loadNotices, saveNotices } from './notices.js'
import { type PaymentView, paymentCells } from './paymentCells.js'
import { renderStatement, type StatementView } from './statement.js'
import { buyTopUp } from './topUp.js'
import {
  $,
  amount,
  copyable,
  dateTime,
  fillTable,
  longDay,
  networkName,
  plainError,
  reasonWords,
  setAmount,
  shortAddress,
  signInWithEthereum,
  signTyped,
  stateWords,
  usd,
  wallet,
  windowDates,
} from './ui.js'
import { renderUsage, type UsageView } from './usage.js'

type Typed = {
  domain: Record<string, unknown>
  types: Record<string, unknown>
  primaryType: string
  message: Record<string, string>
}
type State = {
  state: string
  state_reason?: string | null
  owner_view: boolean
  product: string
  chain_id: number | null
  token: string | null
  collector: string | null
  payee: string | null
  explorer_tx_prefix: string | null
  explorer_address_prefix: string | null
  owner?: string
  micros?: Record<string, string | null>
  window_start?: string | null
  window_end?: string | null
  window_seconds?: number
  authorization_held?: boolean
  waiting_for_limit?: string | null
  limit_too_low?: boolean
  public_history?: boolean
  prepaid?: boolean
  payments?: (PaymentView & { tx_hash: string; explorer_url: string | null })[]
  charges?: { seq: number; amount_micros: string; status: string; reason: string | null }[]
}

const id = document.body.dataset.sub!
const link = new URLSearchParams(location.search).get('t')
let account: string | null = null
let state: State | undefined

function say(text: string, error = false) {
  const m = $('#message')
  m.textContent = text
  m.className = error ? 'error' : ''
}

async function api<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/s/${id}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { 'content-type': 'application/json', ...(link ? { 'x-manage-token': link } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    credentials: 'same-origin',
  })
  const json = await res.json()
  if (!res.ok) throw Object.assign(new Error(json.error?.message ?? res.statusText), { api: true })
  return json as T
}

/** The transaction of an action: an explorer link where the chain has one, else the hash. */
function txNode(hash: string | null | undefined, explorer?: string | null): Node {
  if (!hash) return document.createTextNode('no transaction (held until the first charge)')
  const url = explorer ?? (state?.explorer_tx_prefix ? `${state.explorer_tx_prefix}${hash}` : null)
  return copyable(hash, url)
}

/** An address, shortened with a copy button, linked to the explorer where the chain has one. */
const addressNode = (a: string) =>
  copyable(a, state?.explorer_address_prefix ? `${state.explorer_address_prefix}${a}` : null)

/** After every action: what happened, its transaction, the new state — in words. */
function showOutcome(title: string, hash: string | null | undefined, explorer?: string | null) {
  const box = $('#outcome')
  const h = document.createElement('h2')
  h.textContent = title
  const tx = document.createElement('p')
  tx.append('Transaction: ', txNode(hash, explorer))
  const now = document.createElement('p')
  now.id = 'outcome-state'
  const words = stateWords(state!.state, state!.state_reason ?? null)
  now.textContent = `Your subscription is now: ${words.label}. ${words.words}`
  box.replaceChildren(h, tx, now)
  box.hidden = false
  box.scrollIntoView({ block: 'nearest' })
}

const controlsFor: Record<string, string[]> = {
  pending: ['#authorize'],
  active: ['#authorize', '#cancel-box'],
  needs_reauth: ['#authorize', '#cancel-box'],
  lapsed: ['#authorize', '#cancel-box'],
  canceled: ['#canceled-box'],
}
const authorizeTitles: Record<string, [string, string]> = {
  pending: [
    'Authorize billing',
    'Choose the most you ever want to pay, and optionally a monthly limit. You sign twice in your wallet; nothing is charged now.',
  ],
  active: [
    'Change your cap or monthly limit',
    'Raise or lower the lifetime cap (one signature), or leave it empty and set a new monthly limit (one signature). The page tells you what each signature means before you sign.',
  ],
  needs_reauth: ['Sign a new authorization', 'This is the one action that resumes paid work.'],
  lapsed: [
    'Authorize again',
    'Once your wallet can pay again, a new authorization resumes paid work.',
  ],
}

function render(s: State) {
  state = s
  const words = stateWords(s.state, s.state_reason ?? null)
  const badge = $('#state')
  badge.textContent = words.label
  badge.dataset.state = s.state
  $('#state-words').textContent = words.words
  $('#network').replaceChildren(
    networkName(s.chain_id),
    ...(s.token ? [' · USDC ', addressNode(s.token)] : []),
    ...(s.collector ? [' · collector ', addressNode(s.collector)] : []),
    ...(s.payee ? [' · payments go to ', addressNode(s.payee)] : []),
  )
  $('#owner').hidden = !s.owner_view
  $('#connect').hidden = s.owner_view
  if (!s.owner_view) return
  $('#who').replaceChildren('Signed in as ', addressNode(s.owner ?? account ?? ''))
  for (const sel of ['#authorize', '#cancel-box', '#canceled-box'])
    $(sel).hidden = !(controlsFor[s.state] ?? []).includes(sel)
  $('#top-up').hidden = !(s.prepaid && s.state === 'active')
  // Live: an empty cap keeps the one in force, so a new monthly limit alone is one signature.
  const capInput = $<HTMLInputElement>('#cap')
  capInput.required = s.state !== 'active'
  capInput.placeholder =
    s.state === 'active' && s.micros?.cap ? `keep ${usd(s.micros.cap)}` : 'e.g. 25'
  const [title, why] = authorizeTitles[s.state] ?? ['', '']
  $('#authorize-title').textContent = title
  $('#authorize-why').textContent =
    s.state === 'needs_reauth' || s.state === 'lapsed' ? `${words.words} ${why}` : why
  const m = s.micros ?? {}
  $('#f-owner').replaceChildren(s.owner ? addressNode(s.owner) : 'not yet set')
  for (const k of ['signup_credit', 'accrued', 'cap', 'drawn', 'remaining', 'spent_this_period'])
    setAmount(`#f-${k}`, m[k] ?? null)
  setAmount('#f-monthly_limit', m.monthly_limit ?? null, 'no limit')
  setAmount('#f-allowance', m.allowance ?? null, 'unknown')
  $('#f-window').textContent =
    s.window_start && s.window_end
      ? `${longDay(new Date(s.window_start))} – ${longDay(new Date(new Date(s.window_end).getTime() - 1))}`
      : ''
  $('#held').hidden = !s.authorization_held
  // Charges booked before the monthly limit was cut wait for room under it.
  const waiting = $('#limit-waiting')
  waiting.hidden = !s.waiting_for_limit
  waiting.textContent = !s.waiting_for_limit
    ? ''
    : s.limit_too_low
      ? `${s.waiting_for_limit} of charges waits: it is more than your monthly limit. Raise the limit to let it be collected.`
      : `${s.waiting_for_limit} of charges waits for room under your monthly limit; it is collected once it fits.`
  // A canceled subscription can collect nothing more: its cap, limit and window figures would
  // only mislead, so they go; the on-chain allowance stays, said in words below.
  document.querySelectorAll<HTMLElement>('.live-only').forEach((el) => {
    el.hidden = s.state === 'canceled'
  })
  if (s.state === 'canceled') {
    const left = BigInt(m.allowance ?? '0')
    $('#canceled-words').textContent =
      left === 0n
        ? `${words.words} Your USDC allowance to ${s.product}’s collector is $0.00 (read from the token just now): nothing more can be collected from your wallet. Your payment history stays below. To keep using ${s.product}, start a new subscription.`
        : `${words.words} Your wallet still allows the collector ${usd(left)} in USDC. Nothing can be collected for this subscription, but you may set that allowance to $0 with your own transaction. To keep using ${s.product}, start a new subscription.`
  }
  ;($('#public-history') as HTMLInputElement).checked = s.public_history ?? false
  $('#history-link').hidden = !s.public_history
  const payments = $('#payments')
  fillTable(
    '#payments',
    (s.payments ?? []).map((p) => [
      ...paymentCells(p, (reason) => reasonWords(`pull_failed:${reason}`) ?? reason ?? 'unknown'),
      txNode(p.tx_hash, p.explorer_url),
    ]),
    'No on-chain payments yet.',
    3,
  )
  ;(s.payments ?? []).forEach((p, i) => {
    ;(payments.children[i] as HTMLElement).dataset.tx = p.tx_hash
  })
  const statusWords: Record<string, string> = {
    booked: 'waiting to be collected',
    submitted: 'sent, awaiting confirmation',
    collected: 'collected',
    failed: 'failed',
    written_off: 'written off',
  }
  fillTable(
    '#charges',
    (s.charges ?? []).map((c) => [
      String(c.seq),
      amount(c.amount_micros),
      `${statusWords[c.status] ?? c.status}${c.reason ? ` (${reasonWords(`pull_failed:${c.reason}`) ?? c.reason})` : ''}`,
    ]),
    'No charges yet.',
    3,
  )
}

const refresh = async () => {
  render(await api<State>('/state'))
  if (state?.owner_view) await Promise.all([loadUsage(), loadNotices(api)])
}

async function loadUsage() {
  const period = ($('#period') as HTMLSelectElement).value
  renderUsage(await api<UsageView>(`/usage?period=${encodeURIComponent(period)}`))
}

function guard(fn: () => Promise<void>) {
  return async () => {
    try {
      await fn()
    } catch (e) {
      say(plainError(e), true)
    }
  }
}

async function connect() {
  if (!account)
    account = ((await wallet().request({ method: 'eth_requestAccounts' })) as string[])[0] ?? null
  if (!account) throw new Error('the wallet shared no account')
  return account
}

$('#connect').addEventListener(
  'click',
  guard(async () => {
    const challenge = await api<{ nonce: string }>('/challenge')
    const signed = await signInWithEthereum({
      nonce: challenge.nonce,
      statement: `Sign in to manage your ${state?.product ?? ''} subscription ${id}. This signature changes nothing and costs nothing.`,
    })
    account = signed.address
    await api('/session', { message: signed.message, signature: signed.signature })
    await refresh()
    say(`Signed in as ${shortAddress(signed.address)}.`)
  }),
)

/** The window a new authorization's terms apply to: the current one, or one from now. */
function currentWindow(): Date {
  if (state?.window_start && state.window_end && Date.parse(state.window_end) > Date.now())
    return new Date(state.window_start)
  return new Date()
}

/** The plain words for one typed-data signature, from the very values the wallet will sign. */
function explain(typed: Typed, owner: string, product: string): string {
  const m = typed.message
  if (typed.primaryType === 'Permit') {
    return `You allow ${product} to collect up to ${usd(m.value!)} in USDC from ${shortAddress(owner)}${capNote} (a USDC permit to the collector ${shortAddress(m.spender!)}). Valid until ${dateTime(new Date(Number(m.deadline) * 1000))}. Nothing is charged now; you pay no gas.`
  }
  const seconds = Number(m.period)
  const days = Math.round(seconds / 86_400)
  const limit = BigInt(m.limit!)
  return `You allow ${product} to collect up to ${usd(m.cap!)} in total from ${shortAddress(owner)}, ${
    limit > 0n
      ? `at most ${usd(limit)} in any ${days}-day window (this window: ${windowDates(currentWindow(), seconds)})`
      : `with no monthly limit (${days}-day windows, this window: ${windowDates(currentWindow(), seconds)})`
  }. Valid until ${dateTime(new Date(Number(m.deadline) * 1000))}. Nothing is charged now; you pay no gas.`
}
let capNote = ''

$('#top-up').addEventListener('submit', (ev) => {
  ev.preventDefault()
  void guard(() => buyTopUp(id, link))()
})

$('#notices').addEventListener('submit', (ev) => {
  ev.preventDefault()
  void guard(async () => say(await saveNotices(api)))()
})

$('#authorize').addEventListener('submit', (ev) => {
  ev.preventDefault()
  void guard(async () => {
    const cap = ($('#cap') as HTMLInputElement).value.trim().replace(/^\$/, '')
    const limit = ($('#limit') as HTMLInputElement).value.trim().replace(/^\$/, '')
    // A live subscription keeps its cap when the field is left empty (a new limit alone).
    const keepCap = state?.state === 'active' && cap === ''
    if (!keepCap && !USD_AMOUNT_PATTERN.test(cap))
      throw new Error('enter a lifetime cap in dollars, e.g. 25 or 12.50')
    if (limit && !USD_AMOUNT_PATTERN.test(limit))
      throw new Error('enter the monthly limit in dollars, e.g. 5, or leave it empty')
    const owner = await connect()
    const button = $('#sign-authorize') as HTMLButtonElement
    button.disabled = true
    try {
      const prepared = await api<{ permit?: Typed; terms?: Typed }>('/prepare', {
        action: 'authorize',
        ...(keepCap ? {} : { cap }),
        ...(limit ? { monthly_limit: limit } : {}),
      })
      const product = state!.product
      // A new limit the allowance already covers is the terms alone: one signature.
      const typed = [prepared.permit, prepared.terms].filter((t): t is Typed => t !== undefined)
      const names = ['USDC allowance', 'monthly limit']
      const capMicros = prepared.terms ? BigInt(prepared.terms.message.cap!) : null
      const value = prepared.permit ? BigInt(prepared.permit.message.value!) : null
      capNote =
        capMicros !== null && value !== null && capMicros !== value
          ? ` more (your lifetime cap of ${usd(capMicros)} less what was already collected or is owed)`
          : ''
      const list = $('#steps')
      list.replaceChildren()
      const signatures: string[] = []
      for (const [i, t] of typed.entries()) {
        const li = document.createElement('li')
        const strong = document.createElement('strong')
        strong.textContent = `Signature ${i + 1} of ${typed.length}: ${t.primaryType === 'Permit' ? names[0] : names[1]}`
        li.append(strong, explain(t, owner, product))
        li.dataset.primaryType = t.primaryType
        list.append(li)
        say(`${strong.textContent} — check it in your wallet and sign.`)
        signatures.push(await signTyped(owner, t))
        li.className = 'done'
      }
      const body: Record<string, unknown> = keepCap ? {} : { cap }
      if (prepared.permit) {
        const p = prepared.permit.message
        body.permit = {
          value: p.value,
          deadline: p.deadline,
          nonce: p.nonce,
          signature: signatures[0],
        }
      }
      if (prepared.terms) {
        const t = prepared.terms.message
        body.terms = {
          cap: t.cap,
          limit: t.limit,
          period: Number(t.period),
          nonce: Number(t.nonce),
          deadline: t.deadline,
          signature: signatures[typed.indexOf(prepared.terms)],
        }
      }
      say('Sending your authorization…')
      const done = await api<{
        held: boolean
        tx_hash: string | null
        explorer_url?: string | null
      }>('/authorize', body)
      await refresh()
      say('')
      showOutcome(
        done.held
          ? 'Authorized. Your wallet is deployed with its first charge.'
          : `Authorized: up to ${usd(BigInt(state!.micros?.cap ?? '0'))} in total${state!.micros?.monthly_limit ? `, at most ${usd(state!.micros.monthly_limit)} a window` : ''}.`,
        done.tx_hash,
        done.explorer_url,
      )
    } finally {
      button.disabled = false
    }
  })()
})

$('#cancel').addEventListener('click', () => {
  const s = state!
  $('#cancel-words').textContent =
    `Canceling ends this subscription for good. The same signature sets your USDC allowance to ${s.product}’s collector to $0, so nothing more can ever be pulled from ${shortAddress(s.owner ?? '')}. Usage not yet charged (${usd(s.micros?.accrued ?? '0')}) is collected first. One signature; you pay no gas.`
  $('#cancel-confirm').hidden = false
  $('#cancel').hidden = true
})
$('#cancel-no').addEventListener('click', () => {
  $('#cancel-confirm').hidden = true
  $('#cancel').hidden = false
})
$('#cancel-yes').addEventListener(
  'click',
  guard(async () => {
    const owner = await connect()
    const prepared = await api<{ cancel: Typed }>('/prepare', { action: 'cancel' })
    say('Signature 1 of 1: cancel and set your allowance to $0 — check it in your wallet and sign.')
    const signature = await signTyped(owner, prepared.cancel)
    say('Collecting what is owed, then canceling…')
    const done = await api<{ tx_hash: string; explorer_url: string | null }>('/cancel', {
      deadline: prepared.cancel.message.deadline,
      nonce: prepared.cancel.message.nonce,
      signature,
    })
    $('#cancel-confirm').hidden = true
    $('#cancel').hidden = false
    await refresh()
    say('')
    showOutcome(
      `Canceled. Your USDC allowance to the collector is now ${usd(state!.micros?.allowance ?? '0')}.`,
      done.tx_hash,
      done.explorer_url,
    )
  }),
)

$('#revoke').addEventListener(
  'click',
  guard(async () => {
    const owner = await connect()
    const s = state!
    const data = `0x095ea7b3${s.collector!.slice(2).toLowerCase().padStart(64, '0')}${'0'.repeat(64)}`
    say('Send the transaction from your wallet (you pay its gas).')
    const hash = (await wallet().request({
      method: 'eth_sendTransaction',
      params: [{ from: owner, to: s.token, data }],
    })) as string
    await refresh()
    say('')
    showOutcome('Allowance revoked by your own transaction: nothing more can be pulled.', hash)
  }),
)

$('#renew').addEventListener(
  'click',
  guard(async () => {
    const started = await api<{ url: string }>('/renew', {})
    location.assign(started.url)
  }),
)

$('#period').addEventListener('change', guard(loadUsage))

const monthInput = $<HTMLInputElement>('#month')
monthInput.value = new Date().toISOString().slice(0, 7)
$('#show-statement').addEventListener(
  'click',
  guard(async () => renderStatement(await api<StatementView>(`/statements/${monthInput.value}`))),
)

$('#public-history').addEventListener(
  'change',
  guard(async () => {
    const wanted = ($('#public-history') as HTMLInputElement).checked
    try {
      await api('/visibility', { public_history: wanted })
    } finally {
      await refresh()
    }
    say(wanted ? 'Your payment history is public.' : 'Your payment history is private.')
  }),
)

refresh().catch((e) => say(plainError(e), true))
