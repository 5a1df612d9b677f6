import { page } from './manageApi.js'
import { $, copyable, stateWords } from './ui.js'

/** The transaction of an action: an explorer link where the chain has one, else the hash. */
export function txNode(hash: string | null | undefined, explorer?: string | null): Node {
  if (!hash) return document.createTextNode('no transaction (held until the first charge)')
  const url =
    explorer ?? (page.state?.explorer_tx_prefix ? `${page.state.explorer_tx_prefix}${hash}` : null)
  return copyable(hash, url)
}

/** An address, shortened with a copy button, linked to the explorer where the chain has one. */
export const addressNode = (a: string) =>
  copyable(
    a,
    page.state?.explorer_address_prefix ? `${page.state.explorer_address_prefix}${a}` : null,
  )

/** After every action: what happened, its transaction, the new state — in words. */
export function showOutcome(
  title: string,
  hash: string | null | undefined,
  explorer?: string | null,
) {
  const box = $('#outcome')
  const h = document.createElement('h2')
  h.textContent = title
  const tx = document.createElement('p')
  tx.append('Transaction: ', txNode(hash, explorer))
  const now = document.createElement('p')
  now.id = 'outcome-state'
  const words = stateWords(page.state!.state, page.state!.state_reason ?? null)
  now.textContent = `Your subscription is now: ${words.label}. ${words.words}`
  box.replaceChildren(h, tx, now)
  box.hidden = false
  box.scrollIntoView({ block: 'nearest' })
}
