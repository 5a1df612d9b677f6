import { getBillingSummary, listCharges, reconcileLedger } from '../../src/ledger/index.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { limitedOrg, setTermsOnChain } from './helpers.js'

const DAY = 86_400

describe('a charge refused for the limit the owner cut on-chain', () => {
  // This file's chain (its own, as every test file's) has its clock jump a 30-day window ahead.
  test('waits without a pull while it cannot fit, then is carried into the next window and collected there, where the gate counts it against the limit', async ({
    db,
    chain,
  }) => {
    const { ctx, meter, org } = await limitedOrg(db, chain)
    try {
      const nonce = () =>
        chain.operator.getTransactionCount({ address: chain.operator.account.address })
      // $0.007 collected in window 0.
      await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
      expect(await settleOnce(ctx, { orgIds: [org.orgId] })).toMatchObject({ collected: 1 })
      // $0.014 more metered; then the owner cuts the limit to $0.015, same period.
      await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
      await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
      await setTermsOnChain(chain, org, { limit: 15_000n, period: 30 * DAY })
      const refused = await settleOnce(ctx, { orgIds: [org.orgId] })
      expect(refused).toMatchObject({ booked: 1, collected: 0 })
      expect(refused.failed.map((f) => f.reason)).toEqual(['limit'])
      // The owner is told: it waits for room under the limit (it fits $0.015, so no raise needed).
      expect(await getBillingSummary(db, org.orgId)).toMatchObject({
        waitingForLimit: 14_000n,
        limitTooLow: false,
      })

      // Still window 0: $0.007 + $0.014 is over $0.015 — nothing is sent, no gas is spent.
      const before = await nonce()
      expect(await settleOnce(ctx, { orgIds: [org.orgId] })).toMatchObject({
        batches: 0,
        collected: 0,
        failed: [],
      })
      expect(await nonce()).toBe(before)

      // Window 1: the $0.014 fits the fresh limit, and is collected there.
      await chain.testClient.increaseTime({ seconds: 31 * DAY })
      await chain.testClient.mine({ blocks: 1 })
      expect(await settleOnce(ctx, { orgIds: [org.orgId] })).toMatchObject({
        batches: 1,
        collected: 1,
        failed: [],
      })
      expect(
        (await listCharges(db, { orgId: org.orgId }))
          .sort((a, b) => a.seq - b.seq)
          .map((c) => [c.seq, c.windowIndex, c.amount, c.status]),
      ).toEqual([
        [1, 0, 7_000n, 'collected'],
        [2, 1, 14_000n, 'collected'],
      ])

      expect(await getBillingSummary(db, org.orgId)).toMatchObject({
        waitingForLimit: 0n,
        limitTooLow: false,
      })

      // The gate, in window 1, has $0.001 of the limit left: a $0.007 action is paused.
      const inWindowOne = makeMeter(db, () => BigInt(Date.now() + 31 * DAY * 1000) * 1000n)
      await expect(
        inWindowOne.meter({ orgId: org.orgId, action: 'claim_issue' }),
      ).rejects.toMatchObject({ code: 'SPEND_CAP_REACHED' })
      await inWindowOne.close()
      expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
    } finally {
      await meter.close()
    }
  })
})
