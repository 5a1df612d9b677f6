import { randomUUID } from 'node:crypto'
import { ValidationError } from '../../src/core/errors.js'
import {
  adjustBalance,
  commitUsage,
  getBillingSummary,
  IdempotencyConflictError,
  listAccruedAccounts,
  listLedgerEntries,
  reconcileLedger,
  UsageStateError,
  voidUsage,
} from '../../src/ledger/index.js'
import { describe, expect, test } from '../fixtures.js'
import { openBillingAccount } from '../support/openBillingAccount.js'
import { activeOrg, makeMeter } from './helpers.js'

describe('manual adjustments, accrued listing, retried commit and void', () => {
  test('an org opened without a credit amount gets the $2 voucher, once', async ({ db }) => {
    const orgId = randomUUID()
    const first = await openBillingAccount(db, { orgId })
    const again = await openBillingAccount(db, { orgId, signupCreditMicros: 9n })
    expect(again).toEqual({ subscriptionId: first.subscriptionId, created: false })
    expect((await getBillingSummary(db, orgId)).signupCredit).toBe(2_000_000n)
    expect((await listLedgerEntries(db, { orgId })).map((l) => [l.kind, l.amount])).toEqual([
      ['voucher_grant', 2_000_000n],
    ])
  })

  test('adjustments are entries with balances after; never below zero; idempotent', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    const { orgId } = await activeOrg(db, { credit: 1_000n, allowance: 100_000n })
    await meter.meter({ orgId, action: 'claim_issue' }) // 1,000 voucher + 6,000 billable
    const credit = await adjustBalance(db, {
      orgId,
      balance: 'accrued',
      amount: -2_500n,
      reason: 'support ticket 42',
      actor: 'ops@alice',
      idempotencyKey: 'adj-1',
    })
    expect(credit).toMatchObject({ afterMicros: '3500', replayed: false })
    const retry = await adjustBalance(db, {
      orgId,
      balance: 'accrued',
      amount: -2_500n,
      reason: 'support ticket 42',
      actor: 'ops@alice',
      idempotencyKey: 'adj-1',
    })
    expect(retry).toEqual({ ...credit, replayed: true })
    await expect(
      adjustBalance(db, {
        orgId,
        balance: 'accrued',
        amount: -1n,
        reason: 'x',
        actor: 'y',
        idempotencyKey: 'adj-1',
      }),
    ).rejects.toBeInstanceOf(IdempotencyConflictError)
    await expect(
      adjustBalance(db, { orgId, balance: 'accrued', amount: -3_501n, reason: 'x', actor: 'y' }),
    ).rejects.toBeInstanceOf(ValidationError)
    await adjustBalance(db, {
      orgId,
      balance: 'voucher',
      amount: 50_000n,
      reason: 'goodwill',
      actor: 'ops@alice',
    })
    const [top] = await listLedgerEntries(db, { orgId })
    expect(top).toMatchObject({
      kind: 'adjustment_voucher',
      amount: 50_000n,
      voucherAfter: 50_000n,
      accruedAfter: 3_500n,
      memo: 'ops@alice: goodwill',
    })
    expect(await getBillingSummary(db, orgId)).toMatchObject({
      signupCredit: 50_000n,
      accrued: 3_500n,
    })
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await meter.close()
  })

  test('accrued since the last charge, per org, by threshold or age', async ({ db }) => {
    const meter = makeMeter(db)
    const big = await activeOrg(db, { allowance: 1_000_000n })
    const small = await activeOrg(db, { allowance: 1_000_000n })
    for (let i = 0; i < 3; i++) await meter.meter({ orgId: big.orgId, action: 'claim_issue' })
    await meter.meter({ orgId: small.orgId, action: 'heartbeat' })
    const orgIds = [big.orgId, small.orgId]
    const all = await listAccruedAccounts(db, { orgIds })
    expect(all.map((a) => [a.orgId, a.accrued]).sort()).toEqual(
      [
        [big.orgId, 21_000n],
        [small.orgId, 100n],
      ].sort(),
    )
    expect(
      (await listAccruedAccounts(db, { orgIds, minAccruedMicros: 20_000n })).map((a) => a.orgId),
    ).toEqual([big.orgId])
    expect(await listAccruedAccounts(db, { orgIds, minAccruedMicros: 10n ** 9n })).toEqual([])
    await new Promise((r) => setTimeout(r, 1_100))
    expect(
      (await listAccruedAccounts(db, { orgIds, minAccruedMicros: 10n ** 9n, maxAgeSeconds: 1 }))
        .length,
    ).toBe(2)
    expect(await listAccruedAccounts(db, { orgIds, states: ['lapsed'] })).toEqual([])
    await meter.close()
  })

  test('a retried commit returns the first outcome; a retried void does nothing', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    const { orgId } = await activeOrg(db, { allowance: 100_000n })
    const held = await meter.reserve({ orgId, action: 'next_batch', quantity: 3 })
    const first = await commitUsage(db, { orgId, usageId: held.usageId, quantity: 2 })
    expect(await commitUsage(db, { orgId, usageId: held.usageId, quantity: 2 })).toEqual(first)
    await expect(
      commitUsage(db, { orgId, usageId: held.usageId, quantity: 3 }),
    ).rejects.toBeInstanceOf(UsageStateError)
    const other = await meter.reserve({ orgId, action: 'next_batch', quantity: 1 })
    await voidUsage(db, { orgId, usageId: other.usageId })
    await voidUsage(db, { orgId, usageId: other.usageId })
    await expect(
      commitUsage(db, { orgId, usageId: other.usageId, quantity: 1 }),
    ).rejects.toBeInstanceOf(UsageStateError)
    expect(await getBillingSummary(db, orgId)).toMatchObject({ accrued: 14_000n, reserved: 0n })
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await meter.close()
  })
})
