// A ledger entry's note in the dashboard's charges ledger: the API's `description` (the one
// describer, src/ledger/describeLedgerEntry.ts, wrote it), with each transaction hash shortened
// and given a copy button.
import { copyable } from './ui.js'

const hash = /(0x[0-9a-fA-F]{64})/

/** `description` as the page shows it: plain text, or a span when it names a transaction. */
export function ledgerNote(description: string): string | Node {
  const parts = description.split(hash)
  if (parts.length === 1) return description
  const el = document.createElement('span')
  el.append(...parts.map((part, i) => (i % 2 === 1 ? copyable(part) : part)))
  return el
}
