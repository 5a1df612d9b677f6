import {
  BillingInactiveError,
  commitUsage,
  creditPrepaid,
  getBillingSummary,
  IdempotencyConflictError,
  listLedgerEntries,
  reconcileLedger,
  setBillingMode,
  voidUsage,
} from '../../src/ledger/index.js'
import { describe, expect, test } from '../fixtures.js'
import { activeOrg, makeMeter, newOrg } from './helpers.js'

describe('the prepaid balance', () => {
  test('creditPrepaid appends one entry with the balance after, once per (source, reference)', async ({
    db,
  }) => {
    const { orgId } = await newOrg(db, 0n)
    const credit = (amount = 5_000n, reference = 'tu-1') =>
      db.$client.begin((tx) => creditPrepaid(tx, { orgId, amount, source: 'topup', reference }))
    // Sixteen at once with the same reference: one moves money, the others answer its outcome.
    const all = await Promise.all(Array.from({ length: 16 }, () => credit()))
    expect(all.filter((o) => !o.replayed)).toHaveLength(1)
    const first = all.find((o) => !o.replayed)!
    for (const o of all) expect(o).toEqual({ ...first, replayed: o.replayed })
    expect(first).toMatchObject({ amountMicros: '5000', balanceAfterMicros: '5000' })
    await expect(credit(6_000n)).rejects.toBeInstanceOf(IdempotencyConflictError)
    // The same reference from another source is another credit (an x402 nonce is not a top-up id).
    await db.$client.begin((tx) =>
      creditPrepaid(tx, { orgId, amount: 1_000n, source: 'x402', reference: 'tu-1' }),
    )
    await db.$client.begin((tx) =>
      creditPrepaid(tx, { orgId, amount: 500n, source: 'bonus', reference: 'tu-1' }),
    )
    const lines = await listLedgerEntries(db, { orgId })
    expect(lines.map((l) => [l.kind, l.amount, l.prepaidAfter]).reverse()).toEqual([
      ['voucher_grant', 0n, 0n],
      ['prepaid_topup', 5_000n, 5_000n],
      ['prepaid_x402', 1_000n, 6_000n],
      ['prepaid_bonus', 500n, 6_500n],
    ])
    expect((await getBillingSummary(db, orgId)).prepaid).toBe(6_500n)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
  })

  test('a prepaid org with an empty balance gets no_credit; credited, paid work resumes by itself', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    try {
      const { orgId, subscriptionId } = await activeOrg(db, {
        credit: 1_000n,
        allowance: 1_000_000n,
      })
      await setBillingMode(db, { orgId, mode: 'prepaid' })
      // The voucher first; then nothing is billable, however much allowance the permit left.
      expect(await meter.meter({ orgId, action: 'release_issue' })).toMatchObject({
        voucherMicros: '1000',
      })
      const refused = await meter.meter({ orgId, action: 'save_comment' }).catch((e) => e)
      expect(refused).toBeInstanceOf(BillingInactiveError)
      expect(refused.details).toMatchObject({
        reason: 'no_credit',
        billing_mode: 'prepaid',
        reup_url: `https://tollgate.test/s/${subscriptionId}`,
      })
      expect(refused.message).toContain('your prepaid balance is used up')
      await db.$client.begin((tx) =>
        creditPrepaid(tx, { orgId, amount: 12_000n, source: 'topup', reference: `r-${orgId}` }),
      )
      // The same meter (its cached account is stale now) sees the credit at once.
      expect(await meter.meter({ orgId, action: 'save_comment' })).toMatchObject({
        prepaidMicros: '5000',
        billableMicros: '0',
      })
      expect(await meter.meter({ orgId, action: 'claim_issue' })).toMatchObject({
        prepaidMicros: '7000',
      })
      await expect(meter.meter({ orgId, action: 'heartbeat' })).rejects.toBeInstanceOf(
        BillingInactiveError,
      )
      const s = await getBillingSummary(db, orgId)
      expect([s.prepaid, s.accrued, s.billingMode]).toEqual([0n, 0n, 'prepaid'])
      expect(await reconcileLedger(db, { orgId })).toEqual([])
    } finally {
      await meter.close()
    }
  })

  test('an org with no permit at all (pending) spends a credited balance', async ({ db }) => {
    const meter = makeMeter(db)
    try {
      const { orgId } = await newOrg(db, 0n)
      await expect(meter.meter({ orgId, action: 'save_comment' })).rejects.toMatchObject({
        details: { reason: 'no_credit' },
      })
      await db.$client.begin((tx) =>
        creditPrepaid(tx, { orgId, amount: 5_000n, source: 'x402', reference: `n-${orgId}` }),
      )
      expect(await meter.meter({ orgId, action: 'save_comment' })).toMatchObject({
        prepaidMicros: '5000',
        priceMicros: '5000',
      })
      expect(await reconcileLedger(db, { orgId })).toEqual([])
    } finally {
      await meter.close()
    }
  })

  test('reservations hold the balance; commit draws what was used; a void gives it back', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    try {
      const { orgId } = await newOrg(db, 0n)
      await setBillingMode(db, { orgId, mode: 'prepaid' })
      await db.$client.begin((tx) =>
        creditPrepaid(tx, { orgId, amount: 30_000n, source: 'topup', reference: `h-${orgId}` }),
      )
      const held = await meter.reserve({ orgId, action: 'next_batch', quantity: 4 }) // 28,000
      expect(held).toMatchObject({ prepaidMicros: '28000', status: 'reserved' })
      expect((await getBillingSummary(db, orgId)).prepaid).toBe(2_000n)
      // The hold leaves 2,000: a 5,000 comment does not fit.
      await expect(meter.meter({ orgId, action: 'save_comment' })).rejects.toBeInstanceOf(
        BillingInactiveError,
      )
      expect(await reconcileLedger(db, { orgId })).toEqual([])
      const done = await commitUsage(db, { orgId, usageId: held.usageId, quantity: 2 })
      expect(done).toMatchObject({ prepaidMicros: '14000', billableMicros: '0' })
      const comment = await meter.meter({ orgId, action: 'save_comment' })
      expect((await getBillingSummary(db, orgId)).prepaid).toBe(11_000n)
      await voidUsage(db, { orgId, usageId: comment.usageId, reason: 'work failed' })
      expect((await getBillingSummary(db, orgId)).prepaid).toBe(16_000n)
      const kinds = (await listLedgerEntries(db, { orgId })).map((l) => [l.kind, l.prepaidAfter])
      expect(kinds.reverse()).toEqual([
        ['voucher_grant', 0n],
        ['prepaid_topup', 30_000n],
        ['usage_prepaid', 16_000n],
        ['usage_prepaid', 11_000n],
        ['void_prepaid', 16_000n],
      ])
      expect(await reconcileLedger(db, { orgId })).toEqual([])
      // Reconcile sees a balance that does not match its entries, and names the row.
      await db.$client`update billing_accounts set prepaid = prepaid + 1 where org_id = ${orgId}`
      expect((await reconcileLedger(db, { orgId })).map((m) => m.check)).toContain(
        'prepaid = Σ prepaid entries',
      )
    } finally {
      await meter.close()
    }
  })
})
