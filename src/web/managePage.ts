import { windowWords } from '../core/windowWords.js'
import { stateWords } from './client/stateWords.js'

/** Text made safe for HTML content and attribute values. */
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** The `<head>` every page shares: one stylesheet, the favicon, the viewport for phones. */
export function pageHead(title: string): string {
  return `<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/style.css">`
}

/**
 * The manage page's HTML: server-rendered skeleton; src/web/client/manage.ts fills it in and
 * shows each state only its own controls.
 */
export function managePageHtml(p: {
  subscriptionId: string
  state: string
  product: string
  /** The operator's prepaid packages in words, e.g. "Buy $50.00, get $5.00 free". */
  packageOffers: readonly string[]
  /** The length of the windows a new authorization signs (`WINDOW_SECONDS`). */
  windowSeconds: number
}): string {
  const id = escapeHtml(p.subscriptionId)
  const window = windowWords(p.windowSeconds)
  const product = escapeHtml(p.product)
  const words = stateWords(p.state, null)
  return `<!doctype html>
<html lang="en">
<head>
${pageHead(`${p.product} billing — subscription ${p.subscriptionId}`)}
<link rel="stylesheet" href="/assets/uplot.css">
</head>
<body data-sub="${id}">
<header class="bar"><a href="/dashboard">${product}</a><span id="network" class="muted"></span><span id="who" class="muted"></span></header>
<main>
  <h1>${product} billing</h1>
  <p>Subscription <code class="id">${id}</code> <span class="badge" id="state" data-state="${escapeHtml(p.state)}">${escapeHtml(words.label)}</span></p>
  <p id="state-words">${escapeHtml(words.words)}</p>
  <div id="message" role="status" aria-live="polite"></div>
  <section id="outcome" class="card outcome" hidden aria-label="Last action"></section>
  <button id="connect" type="button" class="primary">Connect wallet and sign in</button>
  <section id="owner" hidden aria-label="Owner controls">
    <section class="card" aria-labelledby="numbers-title">
      <h2 id="numbers-title">Your authorization</h2>
      <dl class="numbers">
        <dt>Paying wallet</dt><dd id="f-owner"></dd>
        <dt>Signup credit left <small>used before anything is billed</small></dt><dd id="f-signup_credit"></dd>
        <dt class="plan" hidden>Included this month <small>your plan, used before anything is billed</small></dt><dd id="f-included" class="plan" hidden></dd>
        <dt>Used since the last charge</dt><dd id="f-accrued"></dd>
        <dt>Lifetime cap <small>the most ${product} can ever collect</small></dt><dd id="f-cap"></dd>
        <dt>Collected so far</dt><dd id="f-drawn"></dd>
        <dt class="live-only">Still available <small>cap − collected − owed</small></dt><dd id="f-remaining" class="live-only"></dd>
        <dt class="live-only">Monthly limit <small>per <span class="window-words">${window}</span></small></dt><dd id="f-monthly_limit" class="live-only"></dd>
        <dt class="live-only">Spent this window <small id="f-window"></small></dt><dd id="f-spent_this_period" class="live-only"></dd>
        <dt>USDC allowance on-chain</dt><dd id="f-allowance"></dd>
      </dl>
      <p id="limit-waiting" hidden></p>
      <p id="held" hidden>Your wallet is deployed with its first charge; until then nothing is sent on-chain.</p>
    </section>
    <form id="authorize" class="card" hidden aria-labelledby="authorize-title">
      <h2 id="authorize-title">Authorize billing</h2>
      <p id="authorize-why"></p>
      <label for="cap">Lifetime cap in dollars <small>the most that can ever be collected</small></label>
      <input id="cap" name="cap" inputmode="decimal" autocomplete="off" placeholder="e.g. 25" required>
      <label for="limit">Monthly limit in dollars <small>optional: at most this much in any <span class="window-words">${window}</span></small></label>
      <input id="limit" name="limit" inputmode="decimal" autocomplete="off" placeholder="no limit">
      <button type="submit" id="sign-authorize" class="primary">Review and sign</button>
      <ol id="steps" class="steps" aria-label="What you are signing"></ol>
    </form>
    <form id="pay-mode" class="card live-only" aria-labelledby="pay-mode-title">
      <h2 id="pay-mode-title">How you pay</h2>
      <fieldset><legend>Choose one</legend><div class="kinds">
        <label><input type="radio" name="mode" value="postpaid"> After use <small>usage adds up and is collected from your wallet under your authorization</small></label>
        <label><input type="radio" name="mode" value="prepaid"> Prepaid <small>you buy credit first; usage draws from it, and work stops when it runs out</small></label>
      </div></fieldset>
      <p id="prepaid-balance" hidden>Prepaid balance: <strong id="f-prepaid"></strong></p>
      <button type="submit" id="pay-mode-save" class="primary">Save</button>
    </form>
    <form id="auto-top-up" class="card" hidden aria-labelledby="auto-top-up-title">
      <h2 id="auto-top-up-title">Auto top-up</h2>
      <p id="auto-top-up-status"></p>
      <label for="auto-threshold">When the balance falls below, in dollars</label>
      <input id="auto-threshold" name="threshold" inputmode="decimal" autocomplete="off" placeholder="e.g. 2" required>
      <label for="auto-amount">Buy this much, in dollars</label>
      <input id="auto-amount" name="amount" inputmode="decimal" autocomplete="off" placeholder="e.g. 10" required>
      <button type="submit" id="auto-save" class="primary">Save auto top-up</button>
      <button type="button" id="auto-off">Turn off</button>
    </form>
    <form id="top-up" class="card" hidden aria-labelledby="top-up-title">
      <h2 id="top-up-title">Top up your prepaid balance</h2>
      <p>The next settlement pass pulls this amount from your wallet under the allowance you signed; it is added to your balance once collected.</p>
${
  p.packageOffers.length === 0
    ? ''
    : `      <p id="top-up-packages">Packages (the bonus is credit to spend, never paid out): ${p.packageOffers.map(escapeHtml).join(' · ')}</p>
`
}      <label for="top-up-amount">Amount in dollars</label>
      <input id="top-up-amount" name="amount" inputmode="decimal" autocomplete="off" value="5" required>
      <button type="submit" id="top-up-buy" class="primary">Buy now</button>
      <p id="top-up-outcome" role="status"></p>
    </form>
    <section id="cancel-box" class="card" hidden aria-labelledby="cancel-title">
      <h2 id="cancel-title">Cancel</h2>
      <button type="button" id="cancel">Cancel this subscription…</button>
      <div id="cancel-confirm" hidden>
        <p id="cancel-words"></p>
        <button type="button" id="cancel-yes" class="danger">Cancel and set my allowance to $0</button>
        <button type="button" id="cancel-no">Keep my subscription</button>
      </div>
      <details><summary>Don’t want to trust ${product} with the cancel?</summary>
        <p>Send your own transaction instead: it sets your USDC allowance to ${product}’s collector to $0 (<code>approve(collector, 0)</code> on the token). You pay the gas; no one else has to act, and nothing more can be pulled.</p>
        <button type="button" id="revoke">Revoke my allowance with my own transaction</button>
      </details>
    </section>
    <section id="canceled-box" class="card" hidden aria-labelledby="canceled-title">
      <h2 id="canceled-title">This subscription is canceled</h2>
      <p id="canceled-words"></p>
      <button type="button" id="renew" class="primary">Start a new subscription</button>
    </section>
    <form id="notices" class="card" aria-labelledby="notices-title">
      <h2 id="notices-title">Email notices</h2>
      <p>We send a link to confirm this address; nothing is sent until you click it.</p>
      <p id="notice-status"></p>
      <label for="notice-address">Email address</label>
      <input id="notice-address" name="address" type="email" autocomplete="email" required>
      <fieldset><legend>Send me</legend><div id="notice-kinds" class="kinds"></div></fieldset>
      <button type="submit" id="notice-save" class="primary">Save and send the confirmation link</button>
    </form>
    <section class="card" aria-labelledby="usage-title">
      <h2 id="usage-title">Usage</h2>
      <p><label for="period">Period</label> <select id="period"><option value="window">This window</option><option value="7d">Last 7 days</option><option value="30d">Last 30 days</option></select></p>
      <p id="usage-summary"></p>
      <div id="usage-chart" class="chart" role="img" aria-label="Spend per day"></div>
      <div class="scroll" tabindex="0"><table><caption>By action</caption><thead><tr><th scope="col">Action</th><th scope="col">Tier</th><th scope="col">Calls</th><th scope="col">Amount</th></tr></thead><tbody id="by-action"></tbody></table></div>
      <div class="scroll" tabindex="0"><table><caption>By API key</caption><thead><tr><th scope="col">Key</th><th scope="col">Calls</th><th scope="col">Amount</th></tr></thead><tbody id="by-key"></tbody></table></div>
    </section>
    <section class="card" aria-labelledby="statement-title">
      <h2 id="statement-title">Monthly statement</h2>
      <p>Every charge booked in the month, with its usage and its transaction.</p>
      <p><label for="month">Month</label> <input id="month" type="month"> <button id="show-statement" type="button">Show statement</button></p>
      <div id="statement"></div>
    </section>
    <section class="card" aria-labelledby="history-title">
      <h2 id="history-title">Payment history</h2>
      <p><label><input type="checkbox" id="public-history"> Public: anyone with this subscription’s id may read its on-chain payment history</label>
        <a id="history-link" href="/s/${id}/history" hidden>Public payment history</a></p>
      <div class="scroll" tabindex="0"><table><thead><tr><th scope="col">Payment</th><th scope="col">Amount</th><th scope="col">Transaction</th></tr></thead><tbody id="payments"></tbody></table></div>
      <h3>Charges</h3>
      <div class="scroll" tabindex="0"><table><thead><tr><th scope="col">#</th><th scope="col">Amount</th><th scope="col">Status</th></tr></thead><tbody id="charges"></tbody></table></div>
    </section>
  </section>
</main>
<script type="module" src="/assets/manage.js"></script>
</body>
</html>`
}
