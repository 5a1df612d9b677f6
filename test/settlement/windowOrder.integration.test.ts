import { commitUsage, listCharges, reconcileLedger } from '../../src/ledger/index.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, test } from '../fixtures.js'
import { limitedOrg, setTermsOnChain } from './helpers.js'

const DAY = 86_400

describe('windows along seq', () => {
  // This file's chain has its clock jump windows ahead.
  test('a charge behind one carried into a later window for the limit goes in that window too, never before it', async ({
    db,
    chain,
  }) => {
    const { ctx, meter, org } = await limitedOrg(db, chain)
    const nonce = () =>
      chain.operator.getTransactionCount({ address: chain.operator.account.address })
    const charges = async () =>
      (await listCharges(db, { orgId: org.orgId }))
        .sort((a, b) => a.seq - b.seq)
        .map((c) => [c.seq, c.windowIndex, c.amount, c.status, c.failureReason])
    try {
      // Window 0: $0.007 collected; $0.007 held by a reservation; $0.014 metered; then the owner
      // cuts the limit to $0.015, so the $0.014 (seq 2) is refused for the limit.
      await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
      expect(await settleOnce(ctx, { orgIds: [org.orgId] })).toMatchObject({ collected: 1 })
      const held = await meter.reserve({ orgId: org.orgId, action: 'claim_issue' })
      await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
      await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
      await setTermsOnChain(chain, org, { limit: 15_000n, period: 30 * DAY })
      expect((await settleOnce(ctx, { orgIds: [org.orgId] })).failed.map((f) => f.reason)).toEqual([
        'limit',
      ])
      // The reservation is committed late: its $0.007 is booked as seq 3, in window 0.
      await commitUsage(db, { orgId: org.orgId, usageId: held.usageId, quantity: 1 })
      expect(await settleOnce(ctx, { orgIds: [org.orgId] })).toMatchObject({
        booked: 1,
        batches: 0,
      })

      // Window 1: seq 2 is carried there and collected; seq 3 follows it into window 1 (the
      // collector refuses any window before its last), where the limit has no room left for it.
      await chain.testClient.increaseTime({ seconds: 31 * DAY })
      await chain.testClient.mine({ blocks: 1 })
      const carried = await settleOnce(ctx, { orgIds: [org.orgId] })
      expect(carried).toMatchObject({ collected: 1 })
      expect(carried.failed.map((f) => f.reason)).toEqual(['limit'])
      expect(await charges()).toEqual([
        [1, 0, 7_000n, 'collected', null],
        [2, 1, 14_000n, 'collected', null],
        [3, 1, 7_000n, 'failed', 'limit'],
      ])
      // It waits without a pull: nothing is sent again while it cannot fit.
      const before = await nonce()
      expect(await settleOnce(ctx, { orgIds: [org.orgId] })).toMatchObject({ batches: 0 })
      expect(await nonce()).toBe(before)

      // Window 2: it fits, and is collected there.
      await chain.testClient.increaseTime({ seconds: 30 * DAY })
      await chain.testClient.mine({ blocks: 1 })
      expect(await settleOnce(ctx, { orgIds: [org.orgId] })).toMatchObject({
        collected: 1,
        failed: [],
      })
      expect((await charges()).at(-1)).toEqual([3, 2, 7_000n, 'collected', null])
      expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
    } finally {
      await meter.close()
    }
  })
})
