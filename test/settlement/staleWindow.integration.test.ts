import { mintUsdc } from '../../src/chain/deployContracts.js'
import { getBillingSummary, listCharges, reconcileLedger } from '../../src/ledger/index.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { submitAuthorization } from '../../src/subscriptions/submitAuthorization.js'
import { describe, expect, startTestChain, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { signAuthorization } from '../subscriptions/helpers.js'
import { authorizedOrg, settlementContext } from './helpers.js'

const DAY = 86_400

describe('a charge retried windows after it was booked', () => {
  test('a pull that failed for balance, re-upped two windows later: the same charge collects (moved to the previous window, the oldest the collector takes), and the next one after it', async ({
    db,
  }) => {
    // A chain of its own: its clock jumps two 30-day windows ahead.
    const chain = await startTestChain()
    try {
      const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
      const meter = makeMeter(db)
      const org = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000n })
      await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
      const first = await settleOnce(ctx, { orgIds: [org.orgId] })
      expect(first.failed.map((f) => f.reason)).toEqual(['balance'])
      const [failed] = await listCharges(db, { orgId: org.orgId })
      expect(failed).toMatchObject({ seq: 1, windowIndex: 0, status: 'failed' })

      // 61 days on, the owner funds the wallet and signs again (same subscription).
      await chain.testClient.increaseTime({ seconds: 61 * DAY })
      await chain.testClient.mine({ blocks: 1 })
      const { timestamp } = await chain.deployer.getBlock()
      await mintUsdc(chain.deployer, chain.deployment, { to: org.owner.address, amount: 100_000n })
      const auth = await signAuthorization(chain, org.owner, {
        subscriptionId: org.subscriptionId,
        value: 1_000_000n,
        deadline: timestamp + 3_600n,
      })
      await submitAuthorization(
        { db, operator: chain.operator, deployment: chain.deployment },
        { orgId: org.orgId, subscriptionId: org.subscriptionId, auth },
      )
      expect(await getBillingSummary(db, org.orgId)).toMatchObject({ state: 'active' })

      // The collector is in window 2 and takes window 1 or 2 only: window 0 would be refused
      // for good, and every later charge after it refused as a seq gap.
      const retried = await settleOnce(ctx, { orgIds: [org.orgId] })
      expect(retried).toMatchObject({ collected: 1, failed: [] })
      const [collected] = await listCharges(db, { orgId: org.orgId })
      expect(collected).toMatchObject({
        id: failed!.id,
        seq: 1,
        windowIndex: 1,
        status: 'collected',
      })

      await meter.meter({ orgId: org.orgId, action: 'save_comment' })
      expect(await settleOnce(ctx, { orgIds: [org.orgId] })).toMatchObject({
        collected: 1,
        failed: [],
      })
      expect((await listCharges(db, { orgId: org.orgId })).map((c) => c.status)).toEqual([
        'collected',
        'collected',
      ])
      expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
      await meter.close()
    } finally {
      await chain.anvil.stop()
    }
  })
})
