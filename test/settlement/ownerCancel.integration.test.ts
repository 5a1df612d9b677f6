import { collectorAbi } from '../../src/chain/abis.js'
import {
  bookCharges,
  getBillingSummary,
  listCharges,
  reconcileLedger,
} from '../../src/ledger/index.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { subscriptionKey } from '../../src/subscriptions/typedData.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { authorizedOrg, settlementContext } from './helpers.js'

describe('a cancel learned from a failed pull', () => {
  test('the owner canceled on-chain with a charge booked: the pull fails, everything owed is written off on the record, the subscription is canceled', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 10_000n })
    const meter = makeMeter(db)
    try {
      const o = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
      // $0.012 booked; then $0.002 more accrued, under the threshold.
      await meter.meter({ orgId: o.orgId, action: 'claim_issue' })
      await meter.meter({ orgId: o.orgId, action: 'save_comment' })
      await bookCharges(db, { orgId: o.orgId })
      await meter.meter({ orgId: o.orgId, action: 'mint_session_key' })
      await meter.meter({ orgId: o.orgId, action: 'release_issue' })
      // The owner cancels with their own transaction, before any check saw it.
      await chain.testClient.setBalance({ address: o.owner.address, value: 10n ** 18n })
      const wallet = await chain.signerFor(o.ownerKey)
      await wallet.waitForTransactionReceipt({
        hash: await wallet.writeContract({
          address: chain.deployment.collector!,
          abi: collectorAbi,
          functionName: 'cancel',
          args: [subscriptionKey(o.subscriptionId)],
        }),
      })
      const report = await settleOnce(ctx, { orgIds: [o.orgId] })
      expect(report.failed.map((f) => f.reason)).toEqual(['canceled'])
      expect(await getBillingSummary(db, o.orgId)).toMatchObject({
        state: 'canceled',
        stateReason: 'pull_failed:canceled',
        accrued: 0n,
        booked: 0n,
        collected: 0n,
        writtenOff: 14_000n,
      })
      expect(
        (await listCharges(db, { orgId: o.orgId }))
          .sort((a, b) => a.seq - b.seq)
          .map((c) => [c.seq, c.amount, c.status, c.failureReason]),
      ).toEqual([
        [1, 12_000n, 'written_off', 'canceled on-chain by the owner'],
        [2, 2_000n, 'written_off', 'canceled on-chain by the owner'],
      ])
      // Nothing is left to send.
      expect(await settleOnce(ctx, { orgIds: [o.orgId] })).toMatchObject({ batches: 0 })
      expect(await reconcileLedger(db, { orgId: o.orgId })).toEqual([])
    } finally {
      await meter.close()
    }
  })
})
