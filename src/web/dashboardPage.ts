import { Router } from 'express'
import { windowWords } from '../core/windowWords.js'
import { budgetsSection } from './budgetsSection.js'
import { escapeHtml, pageHead } from './managePage.js'
import { webhooksSection } from './webhooksSection.js'

/**
 * The dashboard Billing card: the owner signs in with Sign-In with Ethereum (EIP-4361), then
 * sees the selected org's status, signup credit, accrued usage, authorization (billing type,
 * lifetime cap, drawn, remaining, monthly budget), on-chain payment history with explorer
 * links and the charges ledger; "Manage" opens the hosted page through a fresh short-lived link.
 */
export function dashboardRouter(productName: string, windowSeconds: number): Router {
  const r = Router()
  const product = escapeHtml(productName)
  const window = windowWords(windowSeconds)
  r.get('/', (_req, res) => {
    res.type('html').send(`<!doctype html>
<html lang="en"><head>
${pageHead(`${productName} dashboard — Billing`)}
<link rel="stylesheet" href="/assets/uplot.css">
</head>
<body>
<header class="bar"><a href="/dashboard">${product}</a><span id="network" class="muted"></span><span id="who" class="muted"></span></header>
<main>
  <h1>${product} dashboard</h1>
  <div id="message" role="status" aria-live="polite"></div>
  <div id="signin-forms" class="card">
    <button id="signin" type="button" class="primary">Sign in with Ethereum</button>
    <form id="keyform"><label for="apikey">Member? Your API key</label>
      <input id="apikey" type="password" autocomplete="off" spellcheck="false">
      <button type="submit" id="keysignin">Show billing status</button></form>
  </div>
  <p id="org-picker" hidden><label for="org">Organization</label> <select id="org"></select></p>
  <section id="billing" class="card" hidden aria-labelledby="billing-title">
    <h2 id="billing-title">Billing</h2>
    <p id="role-note"></p>
    <dl class="numbers">
      <dt>Subscription status</dt><dd><span id="b-status" class="badge"></span></dd>
      <dt>Signup credit left</dt><dd id="b-credit"></dd>
      <dt class="plan" hidden>Included this month <small>your plan, used before anything is billed</small></dt><dd id="b-included" class="plan" hidden></dd>
      <dt>Metered usage accrued since the last charge</dt><dd id="b-accrued"></dd>
      <dt>Billing type</dt><dd id="b-type">USDC permit (pull payments)</dd>
      <dt>Payments go to <small>the payee: every collection goes to this address</small></dt><dd id="b-payee"></dd>
      <dt>Lifetime cap <small>the most that can ever be collected</small></dt><dd id="b-cap"></dd>
      <dt>Amount drawn</dt><dd id="b-drawn"></dd>
      <dt>Remaining <small>cap − drawn − owed</small></dt><dd id="b-remaining"></dd>
      <dt>Monthly budget <small>per ${window}</small></dt><dd id="b-budget"></dd>
      <dt class="waiting" hidden>Charges waiting for the monthly budget</dt><dd id="b-waiting" class="waiting" hidden></dd>
    </dl>
    <p id="b-status-words"></p>
    <button id="manage" type="button" class="primary" hidden>Manage</button>
  </section>
  <section id="usage" class="card" hidden aria-labelledby="usage-title">
    <h2 id="usage-title">Usage</h2>
    <p><label for="period">Period</label> <select id="period"><option value="window">This window</option><option value="7d">Last 7 days</option><option value="30d">Last 30 days</option><option value="custom">Custom…</option></select>
      <span id="custom-range" hidden><label for="from">From</label> <input id="from" type="date"> <label for="to">To</label> <input id="to" type="date"> <button id="apply-range" type="button">Show</button></span></p>
    <p id="usage-summary"></p>
    <div id="usage-chart" class="chart" role="img" aria-label="Spend per day"></div>
    <div class="scroll" tabindex="0"><table><caption>By action</caption><thead><tr><th scope="col">Action</th><th scope="col">Tier</th><th scope="col">Calls</th><th scope="col">Amount</th></tr></thead><tbody id="by-action"></tbody></table></div>
    <div class="scroll" tabindex="0"><table><caption>By API key</caption><thead><tr><th scope="col">Key</th><th scope="col">Calls</th><th scope="col">Amount</th></tr></thead><tbody id="by-key"></tbody></table></div>
  </section>
  <section id="history" class="card" hidden aria-labelledby="history-title">
    <h2 id="history-title">Payment history</h2>
    <div class="scroll" tabindex="0"><table><thead><tr><th scope="col">Payment</th><th scope="col">Amount</th><th scope="col">Transaction</th></tr></thead><tbody id="payments"></tbody></table></div>
    <h3>Charges ledger</h3>
    <div class="scroll" tabindex="0"><table><thead><tr><th scope="col">Entry</th><th scope="col">Amount</th><th scope="col">Note</th></tr></thead><tbody id="ledger"></tbody></table></div>
    <h3>Monthly statements</h3>
    <p><label for="month">Month</label> <input id="month" type="month"> <button id="show-statement" type="button">Show statement</button> <a id="statement-csv" href="#">Download CSV</a></p>
    <div id="statement"></div>
  </section>
  ${budgetsSection}
  ${webhooksSection}
</main><script type="module" src="/assets/dashboard.js"></script></body></html>`)
  })
  return r
}
