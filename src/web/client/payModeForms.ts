// The owner's "How you pay" and auto top-up forms on the manage page: each saves through the
// page's routes, then shows the page as it now is (docs/prepaid.md).

import { USD_AMOUNT_PATTERN } from '../../core/microsOfUsd.js'
import { api, page, say } from './manageApi.js'
import { refresh } from './refreshManage.js'
import { $, usd } from './ui.js'

/** Saves the chosen mode, then shows the page as it now is. */
export async function savePayMode() {
  const chosen = document.querySelector<HTMLInputElement>('#pay-mode input[name="mode"]:checked')
  if (!chosen) return say('Choose how you pay.', true)
  const done = await api<{ billing_mode: string; previous: string }>('/billing-mode', {
    mode: chosen.value,
  })
  await refresh()
  say(
    done.billing_mode === done.previous
      ? 'Nothing changed.'
      : done.billing_mode === 'prepaid'
        ? `Prepaid: usage now draws from your balance (${usd(page.state?.micros?.prepaid ?? '0')}).`
        : 'After use: usage is added up and collected from your wallet.',
  )
}

/** Sets the auto top-up from the form, or turns it off. */
export async function saveAutoTopUp(off: boolean) {
  if (off) {
    await api('/auto-top-up', { off: true })
    await refresh()
    return say('Auto top-up is off.')
  }
  const threshold = $<HTMLInputElement>('#auto-threshold').value.trim().replace(/^\$/, '')
  const amount = $<HTMLInputElement>('#auto-amount').value.trim().replace(/^\$/, '')
  if (!USD_AMOUNT_PATTERN.test(threshold) || !USD_AMOUNT_PATTERN.test(amount))
    return say('Enter both amounts in dollars, e.g. 2 or 10.50.', true)
  await api('/auto-top-up', { threshold, amount })
  await refresh()
  say('Auto top-up saved.')
}
