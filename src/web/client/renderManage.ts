import { windowWords } from '../../core/windowWords.js'
import { page } from './manageApi.js'
import type { ManageState } from './manageTypes.js'
import { addressNode, txNode } from './outcome.js'
import { renderPayMode } from './payMode.js'
import { paymentCells } from './paymentCells.js'
import { showPlan } from './showPlan.js'
import {
  $,
  amount,
  fillTable,
  longDay,
  networkName,
  reasonWords,
  setAmount,
  stateWords,
  usd,
} from './ui.js'

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

/** Shows a state: the badge, the owner's figures, tables and only the controls it allows. */
export function render(s: ManageState) {
  page.state = s
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
  $('#who').replaceChildren(
    s.via_link ? 'Manage link for ' : 'Signed in as ',
    addressNode(s.owner ?? page.account ?? ''),
  )
  for (const sel of ['#authorize', '#cancel-box', '#canceled-box'])
    $(sel).hidden = !(controlsFor[s.state] ?? []).includes(sel)
  $('#top-up').hidden = !(s.prepaid && s.state === 'active')
  renderPayMode(s)
  // The window length the operator runs (WINDOW_SECONDS), not a fixed "30-day".
  document.querySelectorAll<HTMLElement>('.window-words').forEach((el) => {
    el.textContent = windowWords(s.window_seconds)
  })
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
  // The plan's included allowance, the dashboard's line (docs/plans.md).
  showPlan('#f-included', s.plan ?? null)
  setAmount('#f-monthly_limit', m.monthly_limit ?? null, 'no limit')
  setAmount('#f-allowance', m.allowance ?? null, 'unknown')
  // Before the first authorization there is no cap: "$0.00" would read as a cap of nothing.
  if (s.state === 'pending' && (m.cap ?? '0') === '0')
    for (const k of ['cap', 'remaining']) $(`#f-${k}`).textContent = 'not authorized yet'
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
    (s.charges ?? []).map((c) => {
      const status = `${statusWords[c.status] ?? c.status}${c.reason ? ` (${reasonWords(`pull_failed:${c.reason}`) ?? c.reason})` : ''}`
      const what = document.createElement('span')
      what.append(status)
      // A top-up buys prepaid balance; a package's also brings bonus credit, never pulled.
      if (c.kind === 'topup')
        what.append(
          ' · prepaid top-up',
          ...(c.bonus_micros && c.bonus_micros !== '0'
            ? [' with ', amount(c.bonus_micros), ' bonus credit']
            : []),
        )
      return [String(c.seq), amount(c.amount_micros), what]
    }),
    'No charges yet.',
    3,
  )
}
