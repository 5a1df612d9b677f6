import { getBillingSummary, reconcileLedger } from '../../src/ledger/index.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { collectedPulls } from '../support/collectedPulls.js'
import { authorizedOrg, settlementContext } from './helpers.js'

describe('stuck transactions', () => {
  test('a batch stuck in the pool is replaced (same items, same nonce, higher fees) and collects once', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n, replaceAfterMs: 400 })
    const meter = makeMeter(db)
    const org = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
    await meter.close()
    await chain.testClient.setAutomine(false)
    try {
      const settling = settleOnce(ctx, { orgIds: [org.orgId] })
      // Nothing is mined: wait until the worker has sent a replacement.
      let hashes: string[] = []
      for (let i = 0; i < 80 && hashes.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 100))
        const [row] = await db.$client<{ tx_hashes: string[] }[]>`
          select b.tx_hashes from settlement_batches b join charges c on c.id = any(b.charge_ids)
          where c.org_id = ${org.orgId} order by b.id desc limit 1`
        hashes = row?.tx_hashes ?? []
      }
      expect(hashes.length).toBeGreaterThanOrEqual(2)
      await chain.testClient.mine({ blocks: 1 })
      const report = await settling
      expect(report.collected).toBe(1)
    } finally {
      await chain.testClient.setAutomine(true)
    }
    const pulls = await collectedPulls(chain, org.subscriptionId)
    expect(pulls.map((p) => p.seq)).toEqual([1])
    const [charge] = await db.$client<
      { tx_hash: string }[]
    >`select tx_hash from charges where org_id = ${org.orgId}`
    expect(charge!.tx_hash).toBe(pulls[0]!.transactionHash)
    expect(await getBillingSummary(db, org.orgId)).toMatchObject({ drawn: 7_000n, booked: 0n })
    expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
  })
})
