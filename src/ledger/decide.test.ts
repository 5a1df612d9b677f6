import { describe, expect, test } from 'vitest'
import { applyCharge } from '../../test/support/applyCharge.js'
import { type AccountSnapshot, decide, headroom, windowIndexAt } from './decide.js'
import { formatUsd } from './rateCard.js'

const DAY = 86_400
const T0 = 1_800_000_000_000_000n // an authorization time, in microseconds
const W = BigInt(30 * DAY) * 1_000_000n // one 30-day window, in microseconds

const base: AccountSnapshot = {
  state: 'active',
  stateChangedAt: T0,
  voucher: 0n,
  voucherExhaustedAt: null,
  accrued: 0n,
  reserved: 0n,
  booked: 0n,
  allowance: 100_000n,
  monthlyLimit: null,
  windowStart: T0,
  windowSeconds: 30 * DAY,
  spendWindow: 0,
  spendWindowSpent: 0n,
}
const req = (
  action: string,
  unitPrice: bigint,
  extra: Partial<Parameters<typeof decide>[1]> = {},
) => ({
  action,
  quantity: 1,
  unitPrice,
  now: T0 + 1_000n,
  ...extra,
})

describe('windows', () => {
  test('the last microsecond of a window and the first of the next', () => {
    expect(windowIndexAt(T0, 30 * DAY, T0)).toBe(0)
    expect(windowIndexAt(T0, 30 * DAY, T0 + W - 1n)).toBe(0)
    expect(windowIndexAt(T0, 30 * DAY, T0 + W)).toBe(1)
    expect(windowIndexAt(T0, 30 * DAY, T0 + 5n * W + 7n)).toBe(5)
    expect(windowIndexAt(null, 30 * DAY, T0)).toBeNull()
  })

  test('the monthly limit resets exactly at the boundary', () => {
    const s = { ...base, monthlyLimit: 10_000n, spendWindow: 0, spendWindowSpent: 10_000n }
    expect(decide(s, req('heartbeat', 100n, { now: T0 + W - 1n }))).toMatchObject({
      kind: 'refuse',
      code: 'SPEND_CAP_REACHED',
    })
    expect(decide(s, req('heartbeat', 100n, { now: T0 + W }))).toMatchObject({
      kind: 'charge',
      billable: 100n,
      windowIndex: 1,
    })
  })
})

describe('charges waiting for the limit', () => {
  test('count against every window until collected: a limit they exceed pauses paid work, free work goes on', () => {
    const s = { ...base, monthlyLimit: 10_000n, limitWaiting: 14_000n }
    for (const [now, ends] of [
      [T0 + 1n, T0 + W],
      [T0 + W, T0 + 2n * W],
      [T0 + 7n * W, T0 + 8n * W],
    ] as const)
      expect(decide(s, req('checkpoint', 5_000n, { now }))).toEqual({
        kind: 'refuse',
        code: 'SPEND_CAP_REACHED',
        scope: 'onchain_window',
        period: null,
        limit: 10_000n,
        spent: 14_000n,
        resetsAt: ends,
      })
    expect(decide(s, req('mint_session_key', 1_000n))).toMatchObject({ kind: 'free' })
    // One that fits the limit leaves what is left of it beside it.
    const fits = { ...s, limitWaiting: 4_000n }
    expect(headroom(fits, T0 + W).monthly).toBe(6_000n)
    expect(decide(fits, req('checkpoint', 5_000n, { now: T0 + W }))).toMatchObject({
      kind: 'charge',
      billable: 5_000n,
    })
  })
})

describe('pricing and splitting', () => {
  test('quantity multiplies the unit price (per claimed item)', () => {
    expect(decide(base, req('next_batch', 7_000n, { quantity: 3 }))).toMatchObject({
      kind: 'charge',
      billable: 21_000n,
    })
  })
  test('voucher first; a partly covered action is split', () => {
    expect(decide({ ...base, voucher: 2_000n }, req('save_comment', 5_000n))).toMatchObject({
      kind: 'charge',
      voucher: 2_000n,
      billable: 3_000n,
    })
    expect(decide({ ...base, voucher: 9_000n }, req('save_comment', 5_000n))).toMatchObject({
      kind: 'charge',
      voucher: 5_000n,
      billable: 0n,
    })
  })
  test('voucher-covered usage never touches the allowance or the monthly limit', () => {
    const s = { ...base, voucher: 5_000n, allowance: 0n, monthlyLimit: 0n }
    expect(decide(s, req('save_comment', 5_000n))).toMatchObject({
      kind: 'charge',
      voucher: 5_000n,
      billable: 0n,
    })
  })
  test('formats dollars from integers', () => {
    expect(formatUsd(7_000n)).toBe('$0.007')
    expect(formatUsd(8_410_000n)).toBe('$8.41')
    expect(formatUsd(100n)).toBe('$0.0001')
    expect(formatUsd(2_000_000n)).toBe('$2.00')
    expect(formatUsd(1_234_567_890_123n)).toBe('$1,234,567.890123')
  })
})

describe('headroom', () => {
  test('min(allowance − booked − accrued − reserved, limit − spent this window)', () => {
    const s = {
      ...base,
      allowance: 50_000n,
      booked: 10_000n,
      accrued: 5_000n,
      reserved: 1_000n,
      monthlyLimit: 20_000n,
      spendWindowSpent: 16_000n,
    }
    expect(headroom(s, T0 + 1n)).toEqual({ allowance: 34_000n, monthly: 4_000n, windowIndex: 0 })
    expect(decide(s, req('save_issue.edit_title', 3_000n))).toMatchObject({
      kind: 'charge',
      billable: 3_000n,
    })
    expect(decide(s, req('save_comment', 5_000n))).toMatchObject({
      kind: 'refuse',
      code: 'SPEND_CAP_REACHED',
      limit: 20_000n,
      spent: 16_000n,
    })
  })
  test('exactly fitting the allowance is allowed; one micro-credit more moves to needs_reauth', () => {
    const s = { ...base, allowance: 7_000n }
    expect(decide(s, req('claim_issue', 7_000n))).toMatchObject({
      kind: 'charge',
      billable: 7_000n,
    })
    expect(decide({ ...s, accrued: 1n }, req('claim_issue', 7_000n))).toEqual({
      kind: 'refuse',
      code: 'BILLING_INACTIVE',
      reason: 'inactive',
      transition: 'needs_reauth',
    })
  })
  test('applying a charge counts it in the window it happened in', () => {
    const s = { ...base, spendWindow: 0, spendWindowSpent: 9_000n }
    const next = applyCharge(s, { voucher: 0n, billable: 1_000n, windowIndex: 1 }, T0 + W, false)
    expect(next).toMatchObject({ accrued: 1_000n, spendWindow: 1, spendWindowSpent: 1_000n })
  })
})

describe('the gate in every state', () => {
  const claimedBefore = T0 - 1n
  test.each([
    ['pending', 'no_credit'],
    ['needs_reauth', 'inactive'],
    ['lapsed', 'inactive'],
    ['canceled', 'inactive'],
  ] as const)('%s refuses paid work with %s', (state, reason) => {
    const s = { ...base, state, voucher: state === 'pending' ? 1_000n : 0n }
    expect(decide(s, req('claim_issue', 7_000n))).toEqual({
      kind: 'refuse',
      code: 'BILLING_INACTIVE',
      reason,
    })
  })
  test.each(['pending', 'active', 'needs_reauth', 'lapsed', 'canceled'] as const)(
    '%s never refuses mint_session_key',
    (state) => {
      const d = decide({ ...base, state, allowance: 0n }, req('mint_session_key', 1_000n))
      expect(d.kind).not.toBe('refuse')
    },
  )
  test.each(['pending', 'needs_reauth', 'lapsed', 'canceled'] as const)(
    '%s: wind-down of a lease claimed before the block is free; after the block it is refused',
    (state) => {
      const s = { ...base, state, stateChangedAt: T0, voucherExhaustedAt: T0 }
      for (const action of ['heartbeat', 'checkpoint', 'release_issue']) {
        expect(decide(s, req(action, 1_000n, { leaseClaimedAt: claimedBefore }))).toMatchObject({
          kind: 'free',
          reason: 'wind_down',
        })
        expect(decide(s, req(action, 1_000n, { leaseClaimedAt: T0 + 1n }))).toMatchObject({
          kind: 'refuse',
        })
      }
    },
  )
  test('pending pays only what the voucher fully covers', () => {
    const s = { ...base, state: 'pending' as const, voucher: 7_000n }
    expect(decide(s, req('claim_issue', 7_000n))).toMatchObject({
      kind: 'charge',
      voucher: 7_000n,
      billable: 0n,
    })
    expect(decide(s, req('claim_issue', 7_000n, { quantity: 2 }))).toMatchObject({
      kind: 'refuse',
      reason: 'no_credit',
    })
  })
  test('active wind-down that no longer fits the allowance is free, and does not move the state', () => {
    const s = { ...base, allowance: 0n }
    expect(decide(s, req('heartbeat', 100n, { leaseClaimedAt: T0 }))).toMatchObject({
      kind: 'free',
      reason: 'wind_down',
    })
  })
})

describe('prepaid balance', () => {
  const prepaidOrg = { ...base, mode: 'prepaid' as const, allowance: 0n }
  test('draws the voucher first, then the balance; nothing is billable in prepaid mode', () => {
    const s = { ...prepaidOrg, voucher: 2_000n, prepaid: 10_000n }
    expect(decide(s, req('claim_issue', 7_000n))).toEqual({
      kind: 'charge',
      voucher: 2_000n,
      included: 0n,
      prepaid: 5_000n,
      billable: 0n,
      windowIndex: 0,
    })
    // Exactly the credit left goes through; one micro-credit more is no_credit, not needs_reauth.
    expect(decide(s, req('claim_issue', 12_000n))).toMatchObject({ prepaid: 10_000n, billable: 0n })
    expect(decide(s, req('claim_issue', 12_001n))).toEqual({
      kind: 'refuse',
      code: 'BILLING_INACTIVE',
      reason: 'no_credit',
    })
  })
  test.each(['pending', 'active', 'needs_reauth', 'lapsed', 'canceled'] as const)(
    'prepaid mode, %s: an empty balance is no_credit; a credited one pays',
    (state) => {
      const s = { ...prepaidOrg, state }
      expect(decide(s, req('save_comment', 5_000n))).toEqual({
        kind: 'refuse',
        code: 'BILLING_INACTIVE',
        reason: 'no_credit',
      })
      expect(decide({ ...s, prepaid: 5_000n }, req('save_comment', 5_000n))).toMatchObject({
        kind: 'charge',
        prepaid: 5_000n,
        billable: 0n,
      })
    },
  )
  test('a pending postpaid org (no permit: an x402 signup) spends its balance', () => {
    const s = {
      ...base,
      state: 'pending' as const,
      allowance: 0n,
      voucher: 1_000n,
      prepaid: 6_000n,
    }
    expect(decide(s, req('claim_issue', 7_000n))).toMatchObject({
      kind: 'charge',
      voucher: 1_000n,
      prepaid: 6_000n,
      billable: 0n,
    })
    expect(decide(s, req('claim_issue', 7_000n, { quantity: 2 }))).toMatchObject({
      reason: 'no_credit',
    })
  })
  test('postpaid and active: voucher, balance, then billable within the allowance', () => {
    const s = { ...base, voucher: 1_000n, prepaid: 2_000n, allowance: 4_000n }
    expect(decide(s, req('claim_issue', 7_000n))).toMatchObject({
      voucher: 1_000n,
      prepaid: 2_000n,
      billable: 4_000n,
    })
    expect(decide(s, req('claim_issue', 7_001n))).toMatchObject({ transition: 'needs_reauth' })
  })
  test('postpaid and blocked: the balance pays, the voucher does not', () => {
    const s = { ...base, state: 'lapsed' as const, voucher: 5_000n, prepaid: 3_000n }
    expect(decide(s, req('save_issue.edit_title', 3_000n))).toMatchObject({
      voucher: 0n,
      prepaid: 3_000n,
    })
    expect(decide(s, req('save_comment', 5_000n))).toMatchObject({ reason: 'inactive' })
  })
  test('wind-down in prepaid mode is free for a lease claimed before credit ran out', () => {
    const s = { ...prepaidOrg, voucherExhaustedAt: T0 }
    expect(decide(s, req('heartbeat', 100n, { leaseClaimedAt: T0 - 1n }))).toMatchObject({
      kind: 'free',
      reason: 'wind_down',
    })
    expect(decide(s, req('heartbeat', 100n, { leaseClaimedAt: T0 }))).toMatchObject({
      reason: 'no_credit',
    })
  })
  test('applying a charge draws the balance and marks when credit ran out', () => {
    const s = { ...prepaidOrg, voucher: 1_000n, prepaid: 2_000n }
    const next = applyCharge(
      s,
      { voucher: 1_000n, prepaid: 2_000n, billable: 0n, windowIndex: 0 },
      T0 + 5n,
      false,
    )
    expect([next.voucher, next.prepaid, next.voucherExhaustedAt]).toEqual([0n, 0n, T0 + 5n])
  })
})
