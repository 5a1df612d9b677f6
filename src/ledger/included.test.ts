import { describe, expect, test } from 'vitest'
import { type AccountSnapshot, decide } from './decide.js'
import { includedLeft, includedRenewsAt, includedWindowAt } from './included.js'
import { commitHold, type LedgerState, meterStep, releaseHold, voidRecorded } from './movements.js'

const micros = (iso: string) => BigInt(Date.parse(iso)) * 1000n
const DEC = micros('2026-12-01T00:00:00Z')
const JAN = micros('2027-01-01T00:00:00Z')

const snapshot: AccountSnapshot = {
  state: 'active',
  stateChangedAt: DEC,
  voucher: 0n,
  voucherExhaustedAt: null,
  accrued: 0n,
  reserved: 0n,
  booked: 0n,
  allowance: 100_000n,
  monthlyLimit: null,
  windowStart: DEC,
  windowSeconds: 30 * 86_400,
  spendWindow: 0,
  spendWindowSpent: 0n,
}
const req = (unitPrice: bigint, now = DEC + 5n) => ({
  action: 'save_comment',
  quantity: 1,
  unitPrice,
  now,
})

describe('the included allowance in the gate', () => {
  test('draws after the voucher and before the prepaid balance and anything billable', () => {
    const s = { ...snapshot, voucher: 1_000n, included: 2_000n, prepaid: 3_000n }
    expect(decide(s, req(7_000n))).toEqual({
      kind: 'charge',
      voucher: 1_000n,
      included: 2_000n,
      prepaid: 3_000n,
      billable: 1_000n,
      windowIndex: 0,
    })
    expect(decide(s, req(2_500n))).toMatchObject({ voucher: 1_000n, included: 1_500n, prepaid: 0n })
  })

  test('a pending org spends it as credit; a blocked postpaid org does not', () => {
    expect(decide({ ...snapshot, state: 'pending', included: 5_000n }, req(5_000n))).toMatchObject({
      kind: 'charge',
      included: 5_000n,
    })
    expect(decide({ ...snapshot, state: 'pending', included: 4_999n }, req(5_000n))).toMatchObject({
      kind: 'refuse',
      reason: 'no_credit',
    })
    expect(decide({ ...snapshot, state: 'lapsed', included: 5_000n }, req(5_000n))).toMatchObject({
      kind: 'refuse',
      reason: 'inactive',
    })
    // A prepaid org spends it in any state, like its voucher.
    const prepaid = { ...snapshot, mode: 'prepaid' as const, state: 'lapsed' as const }
    expect(decide({ ...prepaid, included: 5_000n }, req(5_000n))).toMatchObject({
      kind: 'charge',
      included: 5_000n,
      billable: 0n,
    })
  })
})

describe('the included allowance’s month', () => {
  test('a fixed UTC calendar month: the last microsecond of one and the first of the next', () => {
    expect(includedWindowAt(JAN - 1n)).toBe(DEC)
    expect(includedWindowAt(JAN)).toBe(JAN)
    expect(includedRenewsAt(DEC)).toBe(JAN)
    const s = { includedMonthly: 1_000n, includedWindowStart: DEC, includedUsed: 1_000n }
    expect(includedLeft(s, JAN - 1n)).toBe(0n)
    expect(includedLeft(s, JAN)).toBe(1_000n)
    expect(includedLeft({ ...s, includedMonthly: null }, JAN)).toBe(0n)
    // A plan lowered below what the month used leaves nothing, never a negative.
    expect(includedLeft({ ...s, includedMonthly: 400n }, DEC)).toBe(0n)
  })
})

const ledger = (over: Partial<LedgerState> = {}): LedgerState => ({
  state: 'active',
  stateChangedAt: DEC,
  voucher: 0n,
  reservedVoucher: 0n,
  voucherExhaustedAt: null,
  accrued: 0n,
  reserved: 0n,
  booked: 0n,
  accruedSince: null,
  allowance: 100_000n,
  monthlyLimit: null,
  windowStart: DEC,
  windowSeconds: 30 * 86_400,
  spendWindow: 0,
  spendWindowSpent: 0n,
  includedMonthly: 10_000n,
  includedWindowStart: null,
  includedUsed: 0n,
  ...over,
})

describe('the included allowance in the movements', () => {
  test('metering draws it (usage_included), renewing lazily on the first use of a new month', () => {
    const a = ledger({ includedWindowStart: DEC, includedUsed: 9_000n })
    const step = meterStep(a, req(3_000n, JAN - 1n), { hold: false })
    expect(step).toMatchObject({
      kind: 'recorded',
      amounts: { included: 1_000n, billable: 2_000n },
      movements: [
        { kind: 'usage_included', amount: -1_000n },
        { kind: 'usage_billable', amount: 2_000n },
      ],
    })
    expect([a.includedWindowStart, a.includedUsed]).toEqual([DEC, 10_000n])
    // The first microsecond of January: the whole allowance again.
    meterStep(a, req(3_000n, JAN), { hold: false })
    expect([a.includedWindowStart, a.includedUsed, a.accrued]).toEqual([JAN, 3_000n, 2_000n])
  })

  test('a void gives back to the month it drew from, and nothing to a later one', () => {
    const a = ledger()
    const step = meterStep(a, req(4_000n, DEC + 1n), { hold: false })
    if (step.kind !== 'recorded') throw new Error('refused')
    const u = { ...step.amounts, recordedAt: DEC + 1n }
    expect(voidRecorded(a, u)).toEqual([{ kind: 'void_included', amount: 4_000n }])
    expect(a.includedUsed).toBe(0n)
    const again = meterStep(a, req(4_000n, DEC + 2n), { hold: false })
    if (again.kind !== 'recorded') throw new Error('refused')
    meterStep(a, req(1_000n, JAN + 1n), { hold: false }) // January's first use
    voidRecorded(a, { ...again.amounts, recordedAt: DEC + 2n })
    expect([a.includedWindowStart, a.includedUsed]).toEqual([JAN, 1_000n])
  })

  test('a hold draws it at once; commit keeps what was used, release gives all back', () => {
    const a = ledger()
    const held = meterStep(a, req(6_000n, DEC + 1n), { hold: true })
    if (held.kind !== 'recorded') throw new Error('refused')
    expect([held.movements, a.includedUsed]).toEqual([[], 6_000n])
    const h = { ...held.amounts, recordedAt: DEC + 1n }
    const { amounts, movements } = commitHold(a, h, {
      unitPrice: 2_000n,
      quantity: 1,
      now: DEC + 2n,
    })
    expect([amounts.included, movements, a.includedUsed]).toEqual([
      2_000n,
      [{ kind: 'usage_included', amount: -2_000n }],
      2_000n,
    ])
    const other = meterStep(a, req(8_000n, DEC + 3n), { hold: true })
    if (other.kind !== 'recorded') throw new Error('refused')
    expect(other.amounts).toMatchObject({ included: 8_000n, billable: 0n })
    releaseHold(a, { ...other.amounts, recordedAt: DEC + 3n })
    expect(a.includedUsed).toBe(2_000n)
  })
})

describe('included units of an action', () => {
  const search = (quantity: number, now: bigint) => ({
    action: 'search',
    quantity,
    unitPrice: 1_000n,
    now,
  })
  const withUnits = (units: number, over: Partial<LedgerState> = {}) =>
    ledger({ includedMonthly: null, includedUnits: { search: units }, ...over })

  test('drawn first, by that action only; a larger quantity is split, the rest priced as usual', () => {
    const a = withUnits(3, { voucher: 1_500n })
    const step = meterStep(a, search(5, DEC + 1n), { hold: false })
    expect(step).toMatchObject({
      kind: 'recorded',
      amounts: { units: 3, voucher: 1_500n, billable: 500n },
      movements: [
        { kind: 'usage_units', amount: -3_000n },
        { kind: 'usage_voucher', amount: -1_500n },
        { kind: 'usage_billable', amount: 500n },
      ],
    })
    expect(a.includedUnitsUsed).toEqual({ search: 3 })
    // Spent: the next search is priced, and another action never draws them.
    expect(meterStep(a, search(1, DEC + 2n), { hold: false })).toMatchObject({
      amounts: { billable: 1_000n },
    })
    const b = withUnits(3)
    expect(
      meterStep(b, { ...search(1, DEC + 1n), action: 'fetch' }, { hold: false }),
    ).toMatchObject({ amounts: { billable: 1_000n } })
    expect(b.includedUnitsUsed ?? null).toBeNull()
  })

  test('a blocked postpaid org draws none; a prepaid org covered by units alone goes through', () => {
    const lapsed = withUnits(3, { state: 'lapsed' })
    expect(meterStep(lapsed, search(1, DEC + 1n), { hold: false })).toMatchObject({
      kind: 'refused',
    })
    const prepaid = withUnits(1, { state: 'lapsed', mode: 'prepaid' })
    expect(meterStep(prepaid, search(1, DEC + 1n), { hold: false })).toMatchObject({
      kind: 'recorded',
      amounts: { units: 1, billable: 0n },
    })
    expect(meterStep(prepaid, search(1, DEC + 2n), { hold: false })).toMatchObject({
      kind: 'refused',
    })
  })

  test('the last microsecond of a month counts in it; the first of the next starts from 0', () => {
    const a = withUnits(2)
    meterStep(a, search(2, JAN - 1n), { hold: false })
    expect(decide({ ...snapshot, units: 0 }, search(1, JAN - 1n))).toMatchObject({
      billable: 1_000n,
    })
    expect(meterStep(a, search(1, JAN - 1n), { hold: false })).toMatchObject({
      amounts: { billable: 1_000n },
    })
    expect(meterStep(a, search(1, JAN), { hold: false })).toMatchObject({
      amounts: { units: 1, billable: 0n },
    })
    expect([a.includedWindowStart, a.includedUnitsUsed]).toEqual([JAN, { search: 1 }])
  })

  test('a hold committed for less and a release give units back; a void, to its own month only', () => {
    const a = withUnits(5)
    const held = meterStep(a, search(4, DEC + 1n), { hold: true })
    if (held.kind !== 'recorded') throw new Error('refused')
    expect([held.movements, a.includedUnitsUsed]).toEqual([[], { search: 4 }])
    const h = { ...held.amounts, action: 'search', unitPrice: 1_000n, recordedAt: DEC + 1n }
    const done = commitHold(a, h, { unitPrice: 1_000n, quantity: 1, now: DEC + 2n })
    expect([done.amounts.units, done.movements, a.includedUnitsUsed]).toEqual([
      1,
      [{ kind: 'usage_units', amount: -1_000n }],
      { search: 1 },
    ])
    const other = meterStep(a, search(4, DEC + 3n), { hold: true })
    if (other.kind !== 'recorded') throw new Error('refused')
    releaseHold(a, { ...other.amounts, action: 'search', recordedAt: DEC + 3n })
    expect(a.includedUnitsUsed).toEqual({ search: 1 })
    const rec = meterStep(a, search(2, DEC + 4n), { hold: false })
    if (rec.kind !== 'recorded') throw new Error('refused')
    const u = { ...rec.amounts, action: 'search', unitPrice: 1_000n, recordedAt: DEC + 4n }
    expect(voidRecorded(a, u)).toEqual([{ kind: 'void_units', amount: 2_000n }])
    expect(a.includedUnitsUsed).toEqual({ search: 1 })
    // Recorded in December, voided after January's first use: January owes it nothing.
    const dec = meterStep(a, search(2, DEC + 5n), { hold: false })
    if (dec.kind !== 'recorded') throw new Error('refused')
    meterStep(a, search(1, JAN), { hold: false })
    voidRecorded(a, { ...dec.amounts, action: 'search', unitPrice: 1_000n, recordedAt: DEC + 5n })
    expect(a.includedUnitsUsed).toEqual({ search: 1 })
  })
})
