// A ledger entry's memo, as the dashboard's charges ledger shows it: what the ledger writes
// there (src/ledger: charges.ts, refunds.ts, refundPayouts.ts) in plain words, never its notation.
import { copyable, reasonWords } from './ui.js'

const hash = /^0x[0-9a-fA-F]{64}$/

/**
 * The note for an entry of `kind` with `memo`: a booked charge's `seq 2 window 0` becomes
 * "Charge #2 · 30-day window 1" (the subscription's charge number, and which 30-day window since
 * authorizing, counted from 1); a collected charge's transaction hash is shortened with a copy
 * button; a failure's code is a sentence; a refund's id and actor read as words.
 */
export function ledgerNote(kind: string, memo: string | null): string | Node {
  if (!memo) return ''
  if (hash.test(memo)) return copyable(memo)
  const booked = /^(?:(auto|requested): )?seq (\d+) window (\d+)$/.exec(memo)
  if (booked) {
    const what = booked[1] ? `Top-up #${booked[2]}` : `Charge #${booked[2]}`
    return `${what} · 30-day window ${Number(booked[3]) + 1}`
  }
  const paid = /^refund (\d+) paid (0x[0-9a-fA-F]{64})$/.exec(memo)
  if (paid) {
    const el = document.createElement('span')
    el.append(`Refund #${paid[1]} paid back: `, copyable(paid[2]!))
    return el
  }
  const refund = /^refund (\d+) ([^:]*): (.*)$/s.exec(memo)
  if (refund) return `Refund #${refund[1]} by ${refund[2]}: ${refund[3]}`
  if (kind === 'charge_failed') return reasonWords(`pull_failed:${memo}`) ?? memo
  return memo
}
