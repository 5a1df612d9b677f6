import type { AccountSnapshot, Micros } from '../../src/ledger/decide.js'

// decide's tests chain one decision into the next on a plain snapshot; the engine applies a
// decision to the locked account with meterStep (src/ledger/movements.ts) instead.

/** The snapshot after a charge is recorded (or held, for a reservation). */
export function applyCharge(
  s: AccountSnapshot,
  d: {
    voucher: bigint
    included?: bigint
    prepaid?: bigint
    billable: bigint
    windowIndex: number | null
  },
  now: Micros,
  hold: boolean,
): AccountSnapshot {
  const next = { ...s }
  const prepaid = d.prepaid ?? 0n
  const included = d.included ?? 0n
  next.voucher -= d.voucher
  if (included > 0n) next.included = (s.included ?? 0n) - included
  if (prepaid > 0n) next.prepaid = (s.prepaid ?? 0n) - prepaid
  const credit = next.voucher + (next.included ?? 0n) + (next.prepaid ?? 0n)
  if (d.voucher + included + prepaid > 0n && credit === 0n) next.voucherExhaustedAt = now
  if (hold) next.reserved += d.billable
  else next.accrued += d.billable
  if (d.billable > 0n && d.windowIndex !== null) {
    if (d.windowIndex !== next.spendWindow) {
      next.spendWindow = d.windowIndex
      next.spendWindowSpent = 0n
    }
    next.spendWindowSpent += d.billable
  }
  return next
}
