import { describe, expect, test } from 'vitest'
import { newAccount, PRICES, T0 } from '../../test/support/ledgerCoreModel.js'
import type { LockedAccount } from './accounts.js'
import { meterStep } from './movements.js'

describe('budgets in the step that records', () => {
  const budgetAccount = (): LockedAccount => ({
    ...newAccount(0n),
    state: 'active',
    allowance: 1_000_000n,
    windowStart: T0,
    budgets: [
      {
        id: 1n,
        keyId: 'k',
        period: 'day',
        limit: 10_000n,
        override: null,
        overrideUntil: null,
        windowStart: T0 - (T0 % 86_400_000_000n),
        spent: 10_000n,
      },
    ],
  })
  const at = T0 + 1_000n

  test('a spent budget refuses paid work, but the wind-down of an earlier lease goes through, free', () => {
    for (const action of ['heartbeat', 'checkpoint', 'release_issue'] as const) {
      const a = budgetAccount()
      const step = meterStep(
        a,
        {
          action,
          quantity: 1,
          unitPrice: PRICES[action],
          now: at,
          leaseClaimedAt: at - 1n,
          keyId: 'k',
        },
        { hold: false },
      )
      expect(step).toMatchObject({
        kind: 'recorded',
        decision: { kind: 'free', reason: 'wind_down' },
      })
      expect([a.accrued, a.budgets![0]!.spent]).toEqual([0n, 10_000n])
    }
    // Without a lease (or with one claimed only now), a wind-down action is paid work like any other.
    for (const lease of [undefined, at]) {
      const step = meterStep(
        budgetAccount(),
        {
          action: 'heartbeat',
          quantity: 1,
          unitPrice: 100n,
          now: at,
          leaseClaimedAt: lease,
          keyId: 'k',
        },
        { hold: false },
      )
      expect(step).toMatchObject({
        kind: 'refused',
        decision: { code: 'SPEND_CAP_REACHED', scope: 'key' },
      })
    }
    const paid = meterStep(
      budgetAccount(),
      { action: 'save_comment', quantity: 1, unitPrice: 5_000n, now: at, keyId: 'k' },
      { hold: false },
    )
    expect(paid.kind).toBe('refused')
  })
})
