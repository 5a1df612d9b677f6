// "How you pay" and the auto top-up on the manage page, as the state shows them
// (docs/prepaid.md); payModeForms.ts saves them.

import type { ManageState } from './manageTypes.js'
import { $, usd } from './ui.js'

/** Shows the mode, the balance and the auto top-up as the state says. */
export function renderPayMode(s: ManageState) {
  const prepaid = s.prepaid ?? false
  document.querySelectorAll<HTMLInputElement>('#pay-mode input[name="mode"]').forEach((input) => {
    input.checked = input.value === (prepaid ? 'prepaid' : 'postpaid')
  })
  $('#prepaid-balance').hidden = !prepaid
  $('#f-prepaid').textContent = usd(s.micros?.prepaid ?? '0')
  $('#auto-top-up').hidden = !prepaid || s.state === 'canceled'
  const auto = s.auto_top_up ?? null
  $('#auto-top-up-status').textContent = auto
    ? `On: when your balance falls below ${usd(auto.threshold)}, ${usd(auto.amount)} is pulled from your wallet under your authorization — one at a time, never twice for one dip.`
    : 'Off: your balance is topped up only when you buy credit.'
  $('#auto-off').hidden = !auto
}
