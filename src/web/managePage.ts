/** Text made safe for HTML content and attribute values. */
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** The manage page's HTML: server-rendered, readable on a phone, every control labelled. */
export function managePageHtml(p: {
  subscriptionId: string
  state: string
  product: string
}): string {
  const id = escapeHtml(p.subscriptionId)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(p.product)} billing — subscription ${id}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 0 auto; padding: 1rem; color: #1a1a1a; }
  h1 { font-size: 1.4rem; } .state { font-weight: 700; } dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
  dt { color: #555; } dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; } fieldset { border: 1px solid #ccc; border-radius: .5rem; margin: 1rem 0; }
  button { font: inherit; padding: .4rem .9rem; margin: .25rem .25rem .25rem 0; cursor: pointer; } input { font: inherit; width: 8rem; } input[type=checkbox] { width: auto; }
  #message { min-height: 1.5rem; } #message.error { color: #b00020; } table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .2rem .4rem; border-bottom: 1px solid #eee; }
  fieldset > label { display: block; margin: .25rem 0 .5rem; } fieldset > label > input { display: block; margin-top: .15rem; }
  [hidden] { display: none !important; }
</style>
</head>
<body data-sub="${id}">
<main>
  <h1>${escapeHtml(p.product)} billing</h1>
  <p>Subscription <code>${id}</code> is <span class="state" id="state">${escapeHtml(p.state)}</span>.</p>
  <p id="message" role="status" aria-live="polite"></p>
  <button id="connect" type="button">Connect wallet</button>
  <section id="owner" hidden aria-label="Owner controls">
    <dl>
      <dt>Owner</dt><dd id="f-owner"></dd>
      <dt>Signup credit</dt><dd id="f-signup_credit"></dd>
      <dt>Accrued since last charge</dt><dd id="f-accrued"></dd>
      <dt>Lifetime cap</dt><dd id="f-cap"></dd>
      <dt>Drawn</dt><dd id="f-drawn"></dd>
      <dt>Remaining</dt><dd id="f-remaining"></dd>
      <dt>Monthly budget</dt><dd id="f-monthly_limit"></dd>
      <dt>Spent this period</dt><dd id="f-spent_this_period"></dd>
    </dl>
    <p id="limit-waiting" hidden></p>
    <p id="held" hidden>Your wallet is deployed with its first charge; until then nothing is sent on-chain.</p>
    <form id="authorize">
      <fieldset><legend>Authorize or top up</legend>
        <label>Lifetime cap ($) <input id="cap" name="cap" inputmode="decimal" required value="25"></label>
        <label>Monthly limit ($, optional) <input id="limit" name="limit" inputmode="decimal"></label>
        <button type="submit" id="sign-authorize">Sign authorization</button>
        <p><small>You sign; nothing is charged now and you pay no gas.</small></p>
      </fieldset>
    </form>
    <fieldset><legend>Cancel</legend>
      <button type="button" id="cancel">Cancel by signature</button>
      <button type="button" id="revoke">Revoke with my own transaction</button>
    </fieldset>
    <h2>Payment history</h2>
    <p><label><input type="checkbox" id="public-history"> Public: anyone with this subscription's id may read its on-chain payment history</label>
      <a id="history-link" href="/s/${id}/history" hidden>Public payment history</a></p>
    <table><thead><tr><th scope="col">#</th><th scope="col">Amount</th><th scope="col">Transaction</th></tr></thead><tbody id="payments"></tbody></table>
    <h2>Charges</h2>
    <table><thead><tr><th scope="col">#</th><th scope="col">Amount</th><th scope="col">Status</th></tr></thead><tbody id="charges"></tbody></table>
  </section>
</main>
<script src="/s/assets/manage.js"></script>
</body>
</html>`
}

/** The page's script: talks to any injected EIP-1193 wallet (window.ethereum). */
export const manageScript = `(() => {
  const id = document.body.dataset.sub
  const $ = (s) => document.querySelector(s)
  const link = new URLSearchParams(location.search).get('t')
  let account = null
  let state = null
  const say = (text, error) => { const m = $('#message'); m.textContent = text; m.className = error ? 'error' : '' }
  async function api(path, body) {
    const res = await fetch('/s/' + id + path, {
      method: body ? 'POST' : 'GET',
      headers: Object.assign({ 'content-type': 'application/json' }, link ? { 'x-manage-token': link } : {}),
      body: body ? JSON.stringify(body) : undefined,
      credentials: 'same-origin',
    })
    const json = await res.json()
    if (!res.ok) throw new Error((json.error && json.error.message) || res.statusText)
    return json
  }
  const domainTypes = (d) => [['name', 'string'], ['version', 'string'], ['chainId', 'uint256'], ['verifyingContract', 'address']]
    .filter(([k]) => d[k] !== undefined).map(([name, type]) => ({ name, type }))
  async function signTyped(typed) {
    const payload = Object.assign({}, typed, { types: Object.assign({ EIP712Domain: domainTypes(typed.domain) }, typed.types) })
    return window.ethereum.request({ method: 'eth_signTypedData_v4', params: [account, JSON.stringify(payload)] })
  }
  function render(s) {
    state = s
    $('#state').textContent = s.state + (s.state_reason ? ' (' + s.state_reason + ')' : '')
    $('#owner').hidden = !s.owner_view
    if (!s.owner_view) return
    for (const k of ['owner', 'signup_credit', 'accrued', 'cap', 'drawn', 'remaining', 'monthly_limit', 'spent_this_period']) $('#f-' + k).textContent = s[k] == null ? 'none' : s[k]
    $('#held').hidden = !s.authorization_held
    // Charges booked before the monthly limit was cut wait for room under it.
    $('#limit-waiting').hidden = s.waiting_for_limit == null
    $('#limit-waiting').textContent = s.waiting_for_limit == null ? '' : s.limit_too_low
      ? s.waiting_for_limit + ' of charges waits: it is more than your monthly limit. Raise the limit to let it be collected.'
      : s.waiting_for_limit + ' of charges waits for room under your monthly limit; it is collected once it fits.'
    $('#public-history').checked = s.public_history
    $('#history-link').hidden = !s.public_history
    $('#payments').innerHTML = ''
    for (const p of s.payments) {
      const tr = document.createElement('tr')
      const tx = p.explorer_url ? '<a href="' + p.explorer_url + '">' + p.tx_hash.slice(0, 12) + '…</a>' : '<code>' + p.tx_hash.slice(0, 12) + '…</code>'
      tr.innerHTML = '<td>' + p.seq + '</td><td>' + (p.event === 'Collected' ? p.amount : 'failed: ' + p.reason) + '</td><td>' + tx + '</td>'
      tr.dataset.tx = p.tx_hash
      $('#payments').appendChild(tr)
    }
    $('#charges').innerHTML = ''
    for (const c of s.charges) {
      const tr = document.createElement('tr')
      tr.innerHTML = '<td>' + c.seq + '</td><td>' + c.amount + '</td><td>' + c.status + (c.reason ? ' (' + c.reason + ')' : '') + '</td>'
      $('#charges').appendChild(tr)
    }
  }
  const refresh = () => api('/state').then(render)
  async function guard(fn) { try { await fn() } catch (e) { say(e.message || String(e), true) } }
  $('#connect').addEventListener('click', () => guard(async () => {
    if (!window.ethereum) throw new Error('no wallet found: install or unlock a browser wallet')
    ;[account] = await window.ethereum.request({ method: 'eth_requestAccounts' })
    const challenge = await api('/challenge')
    const hex = '0x' + Array.from(new TextEncoder().encode(challenge.message), (b) => b.toString(16).padStart(2, '0')).join('')
    const signature = await window.ethereum.request({ method: 'personal_sign', params: [hex, account] })
    await api('/session', { address: account, nonce: challenge.nonce, signature })
    await refresh()
    say('Signed in as the owner.')
  }))
  $('#authorize').addEventListener('submit', (ev) => { ev.preventDefault(); guard(async () => {
    const limit = $('#limit').value.trim()
    const prepared = await api('/prepare', Object.assign({ action: 'authorize', cap: $('#cap').value.trim() }, limit ? { monthly_limit: limit } : {}))
    const steps = prepared.terms ? 2 : 1
    say(steps === 2 ? 'Signature 1 of 2: check the allowance in your wallet and sign.' : 'Check the amounts in your wallet and sign.')
    const permitSig = await signTyped(prepared.permit)
    const m = prepared.permit.message
    const body = { cap: $('#cap').value.trim(), permit: { value: m.value, deadline: m.deadline, nonce: m.nonce, signature: permitSig } }
    if (prepared.terms) {
      const t = prepared.terms.message
      say('Signature 2 of 2: check the lifetime cap and monthly limit in your wallet and sign.')
      body.terms = { cap: t.cap, limit: t.limit, period: t.period, nonce: t.nonce, deadline: t.deadline, signature: await signTyped(prepared.terms) }
    }
    say('Submitting…')
    const done = await api('/authorize', body)
    await refresh()
    say(done.held ? 'Authorized. Your wallet is deployed with its first charge.' : 'Authorized: your subscription is ' + state.state + '.')
  }) })
  $('#cancel').addEventListener('click', () => guard(async () => {
    const prepared = await api('/prepare', { action: 'cancel' })
    const signature = await signTyped(prepared.cancel)
    say('Collecting what is accrued, then canceling…')
    await api('/cancel', { deadline: prepared.cancel.message.deadline, nonce: prepared.cancel.message.nonce, signature })
    await refresh()
    say('Canceled.')
  }))
  $('#public-history').addEventListener('change', (ev) => guard(async () => {
    const wanted = ev.target.checked
    try {
      await api('/visibility', { public_history: wanted })
    } finally { await refresh() }
    say(wanted ? 'Your payment history is public.' : 'Your payment history is private.')
  }))
  $('#revoke').addEventListener('click', () => guard(async () => {
    const collector = state.collector.slice(2).toLowerCase().padStart(64, '0')
    const data = '0x095ea7b3' + collector + '0'.repeat(64)
    const hash = await window.ethereum.request({ method: 'eth_sendTransaction', params: [{ from: account, to: state.token, data }] })
    say('Allowance revoked in transaction ' + hash + '. Nothing more can be pulled.')
  }))
  refresh().catch((e) => say(e.message, true))
})()`
