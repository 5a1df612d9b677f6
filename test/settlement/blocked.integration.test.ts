import {
  bookCharges,
  commitUsage,
  listCharges,
  markChargeFailed,
  reconcileLedger,
} from '../../src/ledger/index.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { authorizedOrg, limitedOrg, setTermsOnChain, settlementContext } from './helpers.js'

const DAY = 86_400

describe('charges the collector takes only in sequence', () => {
  test('a charge refused for good (the owner lowered the limit on-chain before it was pulled) holds the next one back: the pass ends, and the next charge is never sent into a seq gap', async ({
    db,
    chain,
  }) => {
    const { ctx, meter, org } = await limitedOrg(db, chain)
    // $0.014 accrued under the $0.50 limit, and $0.007 held by a reservation...
    await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
    await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
    const held = await meter.reserve({ orgId: org.orgId, action: 'claim_issue' })
    // ...then the owner cuts the limit to $0.01 on-chain, same period, before the pull.
    await setTermsOnChain(chain, org, { limit: 10_000n, period: 30 * DAY })
    const first = await settleOnce(ctx, { orgIds: [org.orgId] })
    expect(first).toMatchObject({ booked: 1, batches: 1, collected: 0 })
    expect(first.failed.map((f) => f.reason)).toEqual(['limit'])

    // A window on by the ledger's clock, the $0.014 owed still takes the whole $0.01 limit:
    // nothing new is served. The reservation is committed, and booked as the next charge.
    const later = makeMeter(db, () => BigInt(Date.now() + 31 * DAY * 1000) * 1000n)
    await expect(later.meter({ orgId: org.orgId, action: 'claim_issue' })).rejects.toMatchObject({
      code: 'SPEND_CAP_REACHED',
    })
    await commitUsage(db, { orgId: org.orgId, usageId: held.usageId, quantity: 1 })
    const nonce = () =>
      chain.operator.getTransactionCount({ address: chain.operator.account.address })
    const before = await nonce()
    const second = await settleOnce(ctx, { orgIds: [org.orgId] })
    // Booked, and held back: sent, it could only fail as a seq gap — and be sent again.
    expect(second).toMatchObject({ booked: 1, batches: 0, collected: 0, failed: [] })
    expect(await nonce()).toBe(before)
    expect(
      (await listCharges(db, { orgId: org.orgId }))
        .sort((a, b) => a.seq - b.seq)
        .map((c) => [c.seq, c.status, c.failureReason]),
    ).toEqual([
      [1, 'failed', 'limit'],
      [2, 'booked', null],
    ])
    expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
    await meter.close()
    await later.close()
  })

  test('a pull refused for its window (it crossed a window boundary on its way) is sent again, and the charge after it follows in the same pass', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    const org = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
    // Charge 1 booked, and its pull refused for its window.
    const [one] = await bookCharges(db, { orgId: org.orgId })
    await markChargeFailed(db, { chargeId: one!.id.toString(), reason: 'window' })
    await meter.meter({ orgId: org.orgId, action: 'save_comment' })
    const report = await settleOnce(ctx, { orgIds: [org.orgId] })
    expect(report).toMatchObject({ booked: 1, collected: 2, failed: [] })
    expect(
      (await listCharges(db, { orgId: org.orgId }))
        .sort((a, b) => a.seq - b.seq)
        .map((c) => [c.seq, c.status, c.amount]),
    ).toEqual([
      [1, 'collected', 7_000n],
      [2, 'collected', 5_000n],
    ])
    expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
    await meter.close()
  })

  test('a charge refused for the limit is held while it cannot fit, and sent again in the same window once the owner raises the limit on-chain', async ({
    db,
    chain,
  }) => {
    const { ctx, meter, org } = await limitedOrg(db, chain)
    await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
    await setTermsOnChain(chain, org, { limit: 5_000n, period: 30 * DAY })
    const refused = await settleOnce(ctx, { orgIds: [org.orgId] })
    expect(refused.failed.map((f) => f.reason)).toEqual(['limit'])
    // Held: $0.007 is over the $0.005 limit in any window.
    expect(await settleOnce(ctx, { orgIds: [org.orgId] })).toMatchObject({ batches: 0 })

    await setTermsOnChain(chain, org, { limit: 10_000n, period: 30 * DAY, nonce: 3 })
    expect(await settleOnce(ctx, { orgIds: [org.orgId] })).toMatchObject({
      collected: 1,
      failed: [],
    })
    const [charge] = await listCharges(db, { orgId: org.orgId })
    expect(charge).toMatchObject({ seq: 1, windowIndex: 0, status: 'collected' })
    expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
    await meter.close()
  })
})
