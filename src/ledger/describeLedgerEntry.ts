// Imports only leaves: the dashboard's browser script bundles it too.

import { windowWords } from '../core/windowWords.js'
import { formatUsd } from './formatUsd.js'
import { reasonWords } from './reasonWords.js'

export type DescribeLedgerEntryParameters = {
  kind: string
  /** What the ledger wrote in the entry's memo (charges.ts, refunds.ts, requestTopUp.ts…). */
  memo: string | null
  /** The length of the windows of the subscription the entry's charge belongs to, if any. */
  windowSeconds: number | null
}

const hash = /^0x[0-9a-fA-F]{64}$/
const spaced = (code: string) => code.replace(/_/g, ' ')

const usageFrom: Record<string, string> = {
  usage_voucher: 'paid by the signup credit',
  usage_included: 'covered by the plan’s included allowance',
  usage_units: 'covered by the plan’s included units',
  usage_prepaid: 'paid from the prepaid balance',
  usage_billable: 'added to the next charge',
}

/**
 * A ledger entry in plain words, as the API's `GET /v1/billing/transactions` and the dashboard's
 * charges ledger show it: what the ledger writes in its memo, never its notation. A booked
 * charge's `seq 2 window 0` becomes "Charge #2 · 30-day window 1" (the subscription's charge
 * number, and which window since authorizing, counted from 1, of the length signed); a failed
 * pull's code is a sentence; a transaction hash is kept whole, for the page to shorten.
 *
 * @example
 * describeLedgerEntry({ kind: 'charge_booked', memo: 'seq 2 window 0', windowSeconds: 604_800 })
 * // 'Charge #2 · 7-day window 1'
 */
export function describeLedgerEntry(p: DescribeLedgerEntryParameters): string {
  const { kind, memo } = p
  if (kind === 'voucher_grant') return 'Signup credit granted'
  if (usageFrom[kind]) return memo ? `${memo}, ${usageFrom[kind]}` : `Usage ${usageFrom[kind]}`
  if (kind.startsWith('void_'))
    return !memo || memo === 'voided' ? 'Usage voided' : `Usage voided: ${spaced(memo)}`
  if (!memo) return ''
  if (kind.endsWith('_collected') && hash.test(memo)) return `Collected in transaction ${memo}`
  const booked = /^(?:(auto|requested): )?seq (\d+) window (\d+)(?: bonus (\d+))?$/.exec(memo)
  if (booked) {
    const what = booked[1] ? `Top-up #${booked[2]}` : `Charge #${booked[2]}`
    const bonus = booked[4] ? ` · bonus ${formatUsd(BigInt(booked[4]))}` : ''
    return `${what} · ${windowWords(p.windowSeconds)} ${Number(booked[3]) + 1}${bonus}`
  }
  const paid = /^refund (\d+) paid (0x[0-9a-fA-F]{64})$/.exec(memo)
  if (paid) return `Refund #${paid[1]} paid back in transaction ${paid[2]}`
  const refund = /^refund (\d+) ([^:]*): (.*)$/s.exec(memo)
  if (refund) return `Refund #${refund[1]} by ${refund[2]}: ${refund[3]}`
  if (kind === 'charge_failed' || kind === 'topup_failed')
    return `Not collected: ${reasonWords(`pull_failed:${memo}`)}`
  if (kind === 'write_off' || kind === 'topup_written_off') return `Written off: ${spaced(memo)}`
  if (kind.startsWith('adjustment_')) {
    const adjusted = /^([^:]*): (.*)$/s.exec(memo)
    return adjusted ? `Adjusted by ${adjusted[1]}: ${adjusted[2]}` : `Adjusted: ${memo}`
  }
  if (kind.startsWith('prepaid_')) return `Prepaid credit (${spaced(kind.slice(8))}): ${memo}`
  return memo
}
