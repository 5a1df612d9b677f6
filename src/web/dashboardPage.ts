import { Router } from 'express'
import { escapeHtml } from './managePage.js'

/**
 * The dashboard Billing card: the owner signs in with Sign-In with Ethereum (EIP-4361), then
 * sees the selected org's status, signup credit, accrued usage, authorization (billing type,
 * lifetime cap, drawn, remaining, monthly budget), on-chain payment history with explorer
 * links and the charges ledger; "Manage" opens the hosted page through a fresh short-lived link.
 */
export function dashboardRouter(productName: string): Router {
  const r = Router()
  const product = escapeHtml(productName)
  r.get('/assets/dashboard.js', (_req, res) => {
    res.type('application/javascript').send(dashboardScript)
  })
  r.get('/', (_req, res) => {
    res.type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${product} dashboard — Billing</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 0 auto; padding: 1rem; }
  dl { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: .25rem 1rem; } dt { color: #555; } dd { margin: 0; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }
  section { border: 1px solid #ddd; border-radius: .5rem; padding: 1rem; } table { border-collapse: collapse; width: 100%; }
  td, th { text-align: left; padding: .2rem .4rem; border-bottom: 1px solid #eee; } button { font: inherit; padding: .4rem .9rem; }
  #message, #role-note { overflow-wrap: anywhere; } td.empty { color: #555; }
  #message.error { color: #b00020; } [hidden] { display: none !important; } input, select { font: inherit; } #apikey { width: 16rem; max-width: 100%; }
</style></head>
<body><main>
  <h1>${product} dashboard</h1>
  <p id="message" role="status" aria-live="polite"></p>
  <div id="signin-forms">
    <button id="signin" type="button">Sign in with Ethereum</button>
    <form id="keyform"><label>Member? Your API key <input id="apikey" type="password" autocomplete="off" spellcheck="false"></label>
      <button type="submit" id="keysignin">Show billing status</button></form>
  </div>
  <p id="org-picker" hidden><label>Organization <select id="org"></select></label></p>
  <section id="billing" hidden aria-labelledby="billing-title">
    <h2 id="billing-title">Billing</h2>
    <p id="role-note"></p>
    <dl>
      <dt>Subscription status</dt><dd id="b-status"></dd>
      <dt>Signup credit</dt><dd id="b-credit"></dd>
      <dt>Metered usage accrued since the last charge</dt><dd id="b-accrued"></dd>
      <dt>Billing type</dt><dd id="b-type">USDC permit (pull payments)</dd>
      <dt>Lifetime cap</dt><dd id="b-cap"></dd>
      <dt>Amount drawn</dt><dd id="b-drawn"></dd>
      <dt>Remaining</dt><dd id="b-remaining"></dd>
      <dt>Monthly budget</dt><dd id="b-budget"></dd>
      <dt class="waiting" hidden>Charges waiting for the monthly budget</dt><dd id="b-waiting" class="waiting" hidden></dd>
    </dl>
    <button id="manage" type="button" hidden>Manage</button>
    <h3>Payment history</h3>
    <table><thead><tr><th scope="col">#</th><th scope="col">Amount</th><th scope="col">Transaction</th></tr></thead><tbody id="payments"></tbody></table>
    <h3>Charges ledger</h3>
    <table><thead><tr><th scope="col">Entry</th><th scope="col">Amount</th><th scope="col">Note</th></tr></thead><tbody id="ledger"></tbody></table>
  </section>
</main><script src="/dashboard/assets/dashboard.js"></script></body></html>`)
  })
  return r
}

const dashboardScript = `(() => {
  const $ = (s) => document.querySelector(s)
  const say = (t, e) => { const m = $('#message'); m.textContent = t; m.className = e ? 'error' : '' }
  let token = null
  async function api(path, body) {
    const res = await fetch('/v1' + path, {
      method: body ? 'POST' : 'GET',
      headers: Object.assign({ 'content-type': 'application/json' }, token ? { authorization: 'Bearer ' + token } : {}),
      body: body ? JSON.stringify(body) : undefined,
    })
    const json = await res.json()
    if (!res.ok) throw new Error((json.error && json.error.message) || res.statusText)
    return json
  }
  const text = (id, v) => { $(id).textContent = v == null ? 'none' : v }
  // Table rows from API data, as text (never parsed as HTML); an empty table says so.
  function fill(id, rows, empty) {
    const body = $(id)
    body.replaceChildren()
    for (const cells of rows) {
      const tr = document.createElement('tr')
      for (const c of cells) {
        const td = document.createElement('td')
        if (typeof c === 'string') td.textContent = c
        else td.append(c)
        tr.append(td)
      }
      body.append(tr)
    }
    if (rows.length === 0) {
      const td = document.createElement('td')
      td.colSpan = 3
      td.className = 'empty'
      td.textContent = empty
      body.append(document.createElement('tr'))
      body.lastChild.append(td)
    }
  }
  async function load() {
    const me = await api('/whoami')
    const controls = me.role === 'owner' || me.role === 'admin'
    // Only an owner (or an admin the owner added) changes billing or opens the manage link;
    // members see the status, not the controls.
    $('#manage').hidden = !controls
    $('#role-note').textContent = controls ? 'Signed in as ' + me.role + ' (' + me.address + ').' : 'Signed in as a member: you see the billing status; only an owner can change billing.'
    const b = await api('/billing')
    text('#b-status', b.status + (b.status_reason ? ' (' + b.status_reason + ')' : ''))
    text('#b-credit', b.signup_credit.usd)
    text('#b-accrued', b.accrued_since_last_charge.usd)
    text('#b-cap', b.authorization.lifetime_cap.usd)
    text('#b-drawn', b.authorization.drawn.usd)
    text('#b-remaining', b.authorization.remaining.usd)
    text('#b-budget', b.authorization.monthly_budget ? b.authorization.monthly_budget.usd : null)
    const waiting = b.authorization.waiting_for_budget
    for (const e of document.querySelectorAll('.waiting')) e.hidden = waiting.micros === '0'
    text('#b-waiting', waiting.usd + (b.authorization.budget_too_low ? ' — larger than the monthly budget: it is collected once the owner raises the budget' : ' — collected once it fits the budget'))
    const p = await api('/billing/payments')
    fill('#payments', p.payments.map((x) => {
      const hash = x.tx_hash.slice(0, 12) + '…'
      const tx = document.createElement(x.explorer_url ? 'a' : 'code')
      tx.textContent = hash
      if (x.explorer_url) tx.href = x.explorer_url
      return [String(x.seq), x.event === 'Collected' ? x.amount.usd : 'failed: ' + x.failure_reason, tx]
    }), 'No on-chain payments yet.')
    const l = await api('/billing/transactions?type=charge_booked,charge_collected,charge_failed,write_off,refund')
    fill('#ledger', l.transactions.map((x) => [x.kind, x.amount.usd, x.memo || '']), 'No charges yet.')
    $('#billing').hidden = false
  }
  $('#signin').addEventListener('click', async () => {
    try {
      if (!window.ethereum) throw new Error('no wallet found')
      const [address] = await window.ethereum.request({ method: 'eth_requestAccounts' })
      const chainId = parseInt(await window.ethereum.request({ method: 'eth_chainId' }), 16)
      const { nonce } = await api('/auth/nonce')
      const message = location.host + ' wants you to sign in with your Ethereum account:\\n' + address + '\\n\\nSign in to the billing dashboard.\\n\\nURI: ' + location.origin + '\\nVersion: 1\\nChain ID: ' + chainId + '\\nNonce: ' + nonce + '\\nIssued At: ' + new Date().toISOString()
      const hex = '0x' + Array.from(new TextEncoder().encode(message), (b) => b.toString(16).padStart(2, '0')).join('')
      const signature = await window.ethereum.request({ method: 'personal_sign', params: [hex, address] })
      token = (await api('/auth/siwe', { message, signature })).token
      await load()
      await pickers()
      $('#signin-forms').hidden = true
      say('Signed in as ' + address + '.')
    } catch (e) { say(e.message || String(e), true) }
  })
  async function pickers() {
    const w = await api('/wallet/orgs')
    const select = $('#org')
    select.innerHTML = ''
    for (const o of w.orgs) {
      const opt = document.createElement('option')
      opt.value = o.id
      opt.textContent = o.name + (o.role === 'admin' ? ' (admin)' : '')
      opt.selected = o.id === w.current
      select.appendChild(opt)
    }
    $('#org-picker').hidden = w.orgs.length < 2
  }
  $('#org').addEventListener('change', async (ev) => {
    try {
      token = (await api('/wallet/switch', { org_id: ev.target.value })).token
      await load()
      say('Showing ' + ev.target.selectedOptions[0].textContent + '.')
    } catch (e) { say(e.message || String(e), true) }
  })
  $('#keyform').addEventListener('submit', async (ev) => {
    ev.preventDefault()
    try {
      token = $('#apikey').value.trim()
      $('#apikey').value = ''
      await load()
      $('#signin-forms').hidden = true
    } catch (e) { token = null; say(e.message || String(e), true) }
  })
  $('#manage').addEventListener('click', async () => {
    try { location.href = (await api('/billing/manage-link', {})).url } catch (e) { say(e.message || String(e), true) }
  })
})()`
