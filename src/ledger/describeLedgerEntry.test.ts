import { describe, expect, test } from 'vitest'
import { describeLedgerEntry } from './describeLedgerEntry.js'

const tx = `0x${'ab'.repeat(32)}`
const day = 86_400

describe('describeLedgerEntry', () => {
  test('a booked charge names its number and the window of the length signed', () => {
    expect(
      describeLedgerEntry({
        kind: 'charge_booked',
        memo: 'seq 2 window 0',
        windowSeconds: 30 * day,
      }),
    ).toBe('Charge #2 · 30-day window 1')
    expect(
      describeLedgerEntry({
        kind: 'charge_booked',
        memo: 'seq 3 window 4',
        windowSeconds: 7 * day,
      }),
    ).toBe('Charge #3 · 7-day window 5')
    expect(
      describeLedgerEntry({ kind: 'charge_booked', memo: 'seq 1 window 0', windowSeconds: 3_600 }),
    ).toBe('Charge #1 · 1-hour window 1')
    expect(
      describeLedgerEntry({ kind: 'charge_booked', memo: 'seq 1 window 1', windowSeconds: null }),
    ).toBe('Charge #1 · window 2')
  })

  test('a top-up, with its bonus', () => {
    expect(
      describeLedgerEntry({
        kind: 'topup_booked',
        memo: 'auto: seq 4 window 0 bonus 500000',
        windowSeconds: day,
      }),
    ).toBe('Top-up #4 · 1-day window 1 · bonus $0.50')
    expect(
      describeLedgerEntry({
        kind: 'topup_booked',
        memo: 'requested: seq 5 window 2',
        windowSeconds: day,
      }),
    ).toBe('Top-up #5 · 1-day window 3')
  })

  test('collections, failures, write-offs and refunds in words', () => {
    expect(describeLedgerEntry({ kind: 'charge_collected', memo: tx, windowSeconds: day })).toBe(
      `Collected in transaction ${tx}`,
    )
    expect(
      describeLedgerEntry({ kind: 'charge_failed', memo: 'balance_empty', windowSeconds: day }),
    ).toBe('Not collected: your wallet did not hold enough USDC for the last charge')
    expect(
      describeLedgerEntry({ kind: 'write_off', memo: 'canceled_on_chain', windowSeconds: day }),
    ).toBe('Written off: canceled on chain')
    expect(
      describeLedgerEntry({
        kind: 'refund_booked',
        memo: 'refund 7 ops: double charge',
        windowSeconds: null,
      }),
    ).toBe('Refund #7 by ops: double charge')
    expect(
      describeLedgerEntry({ kind: 'refund', memo: `refund 7 paid ${tx}`, windowSeconds: null }),
    ).toBe(`Refund #7 paid back in transaction ${tx}`)
  })

  test('usage says what paid for it; grants, voids, adjustments and credits read as words', () => {
    expect(
      describeLedgerEntry({ kind: 'voucher_grant', memo: 'signup credit', windowSeconds: null }),
    ).toBe('Signup credit granted')
    expect(
      describeLedgerEntry({ kind: 'usage_voucher', memo: 'save_comment', windowSeconds: null }),
    ).toBe('save_comment, paid by the signup credit')
    expect(
      describeLedgerEntry({ kind: 'usage_billable', memo: 'claim_issue', windowSeconds: null }),
    ).toBe('claim_issue, added to the next charge')
    expect(
      describeLedgerEntry({ kind: 'void_billable', memo: 'voided', windowSeconds: null }),
    ).toBe('Usage voided')
    expect(
      describeLedgerEntry({ kind: 'void_voucher', memo: 'work_failed', windowSeconds: null }),
    ).toBe('Usage voided: work failed')
    expect(
      describeLedgerEntry({
        kind: 'adjustment_accrued',
        memo: 'ops: goodwill',
        windowSeconds: null,
      }),
    ).toBe('Adjusted by ops: goodwill')
    // An x402 authorization's nonce looks like a transaction hash; it is not one.
    expect(describeLedgerEntry({ kind: 'prepaid_x402', memo: tx, windowSeconds: null })).toBe(
      `Prepaid credit (x402): ${tx}`,
    )
  })
})
