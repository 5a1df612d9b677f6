import { getBillingSummary, listLedgerEntries, reconcileLedger } from '../../src/ledger/index.js'
import { cancelSubscription } from '../../src/settlement/cancelSubscription.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { signOwnerCancel } from '../support/signOwnerCancel.js'
import { authorizedOrg, settlementContext } from './helpers.js'

describe('cancel with accrued usage', () => {
  test('accrued usage is collected before the cancel, or written off with the reason', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain)
    const meter = makeMeter(db)
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 600)
    const cancelBy = async (o: Awaited<ReturnType<typeof authorizedOrg>>) => {
      return cancelSubscription(ctx, {
        orgId: o.orgId,
        subscriptionId: o.subscriptionId,
        ...(await signOwnerCancel(chain, o.owner, { subscriptionId: o.subscriptionId, deadline })),
      })
    }
    // Under the billing threshold, yet collected because the subscription ends.
    const paying = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    await meter.meter({ orgId: paying.orgId, action: 'save_comment' })
    const a = await cancelBy(paying)
    expect(a).toMatchObject({ collected: 1, writtenOff: [] })
    expect(await getBillingSummary(db, paying.orgId)).toMatchObject({
      state: 'canceled',
      drawn: 5_000n,
      accrued: 0n,
      booked: 0n,
      writtenOff: 0n,
    })
    // An owner who cannot pay: the debt is written off, on the record.
    const broke = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 100n })
    await meter.meter({ orgId: broke.orgId, action: 'claim_issue' })
    const b = await cancelBy(broke)
    expect(b.collected).toBe(0)
    expect(b.writtenOff).toEqual([
      expect.objectContaining({ amount: 7_000n, reason: 'canceled: balance' }),
    ])
    expect(await getBillingSummary(db, broke.orgId)).toMatchObject({
      state: 'canceled',
      drawn: 0n,
      booked: 0n,
      writtenOff: 7_000n,
    })
    const [entry] = await listLedgerEntries(db, { orgId: broke.orgId, kinds: ['write_off'] })
    expect(entry).toMatchObject({ amount: 7_000n, memo: 'canceled: balance' })
    for (const o of [paying, broke])
      expect(await reconcileLedger(db, { orgId: o.orgId })).toEqual([])
    await meter.close()
  })
})
