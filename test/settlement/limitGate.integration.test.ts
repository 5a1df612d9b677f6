import { getBillingSummary, listCharges, reconcileLedger } from '../../src/ledger/index.js'
import { checkChainTruth } from '../../src/settlement/checkChainTruth.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { chargeOverCutLimit, setTermsOnChain } from './helpers.js'

const DAY = 86_400

describe('the gate and a charge waiting for the limit the owner cut', () => {
  // This file's chain has its clock jump windows ahead.
  test('what waits counts against every later window: nothing new is served for free until it is collected', async ({
    db,
    chain,
  }) => {
    // $0.014 booked in window 0, then the owner cuts the limit to $0.010: it can never be pulled.
    const { ctx, meter, org, refused } = await chargeOverCutLimit(db, chain)
    const windowsAhead = (n: number) =>
      makeMeter(db, () => BigInt(Date.now() + n * 30 * DAY * 1000 + 1000) * 1000n)
    const later = [windowsAhead(1), windowsAhead(2)]
    try {
      expect(refused.failed.map((f) => f.reason)).toEqual(['limit'])
      await chain.testClient.increaseTime({ seconds: 31 * DAY })
      await chain.testClient.mine({ blocks: 1 })
      expect(await settleOnce(ctx, { orgIds: [org.orgId] })).toMatchObject({
        batches: 0,
        failed: [],
      })
      // In the next windows the $0.010 limit is still taken by the $0.014 owed: paid work waits.
      for (const m of later)
        await expect(m.meter({ orgId: org.orgId, action: 'claim_issue' })).rejects.toMatchObject({
          code: 'SPEND_CAP_REACHED',
          details: { monthly_limit_micros: '10000', spent_micros: '14000' },
        })
      // Free actions still go through; the subscription is authorized and stays active.
      expect(await getBillingSummary(db, org.orgId)).toMatchObject({
        state: 'active',
        accrued: 0n,
        booked: 14_000n,
        waitingForLimit: 14_000n,
        limitTooLow: true,
      })

      // The owner raises the limit to $0.030: the charge is collected in the chain's window 1,
      // which the gate then counts, leaving $0.016 there.
      await setTermsOnChain(chain, org, { limit: 30_000n, period: 30 * DAY, nonce: 3 })
      // The worker's chain-truth job brings the owner's own terms to the gate.
      await checkChainTruth(ctx, { orgIds: [org.orgId] })
      expect(await settleOnce(ctx, { orgIds: [org.orgId] })).toMatchObject({
        collected: 1,
        failed: [],
      })
      expect(
        (await listCharges(db, { orgId: org.orgId })).map((c) => [c.seq, c.windowIndex, c.status]),
      ).toEqual([[1, 1, 'collected']])
      const [inWindowOne] = later
      await inWindowOne!.meter({ orgId: org.orgId, action: 'claim_issue' })
      await inWindowOne!.meter({ orgId: org.orgId, action: 'claim_issue' })
      await expect(
        inWindowOne!.meter({ orgId: org.orgId, action: 'claim_issue' }),
      ).rejects.toMatchObject({ code: 'SPEND_CAP_REACHED' })
      expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
    } finally {
      await meter.close()
      for (const m of later) await m.close()
    }
  })
})
