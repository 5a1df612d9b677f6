// "Buy $X now" for a prepaid org with an active permit: one idempotency key per click.

import { USD_AMOUNT_PATTERN } from '../../core/microsOfUsd.js'
import { $ } from './ui.js'

const refusals: Record<string, string> = {
  not_prepaid: 'Top-ups are for prepaid billing; this account is billed after use.',
  no_permit: 'There is no active authorization to pull from: authorize billing first.',
  in_flight: 'A top-up is already on its way; wait until it is collected before buying more.',
  exceeds_allowance: 'That is more than your authorization has left: buy less, or raise your cap.',
}

/** Books the top-up through the manage page and says the outcome in words. */
export async function buyTopUp(id: string, link: string | null): Promise<void> {
  const button = $<HTMLButtonElement>('#top-up-buy')
  const out = $('#top-up-outcome')
  const amount = $<HTMLInputElement>('#top-up-amount').value.trim().replace(/^\$/, '')
  if (!USD_AMOUNT_PATTERN.test(amount)) {
    out.textContent = 'Enter an amount in dollars, e.g. 5 or 2.50.'
    return
  }
  button.disabled = true
  try {
    const res = await fetch(`/s/${id}/top-ups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(link ? { 'x-manage-token': link } : {}) },
      body: JSON.stringify({ amount, idempotency_key: crypto.randomUUID() }),
      credentials: 'same-origin',
    })
    const json = await res.json()
    out.textContent = res.ok
      ? `Requested: the next settlement pass pulls ${json.top_up.amount} from your wallet and adds it to your balance${json.top_up.bonus === '$0.00' ? '' : `, with ${json.top_up.bonus} bonus credit`}.`
      : json.error?.code === 'TOP_UP_REFUSED'
        ? (refusals[json.error.reason] ?? 'The top-up was refused.')
        : (json.error?.message ?? 'The top-up failed.')
  } finally {
    button.disabled = false
  }
}
