import { getBillingSummary, listCharges, reconcileLedger } from '../../src/ledger/index.js'
import { checkChainTruth } from '../../src/settlement/checkChainTruth.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { authorizedOrg, setTermsOnChain, settlementContext } from './helpers.js'

describe('terms the owner submits to the collector themselves', () => {
  test('a lower monthly limit and a new period set on-chain by the owner: the chain-truth check brings them into the ledger, so the gate holds the new limit and nothing is booked that the collector refuses', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const org = await authorizedOrg(db, chain, {
      cap: 1_000_000n,
      balance: 1_000_000n,
      limit: 500_000n,
    })
    expect(await getBillingSummary(db, org.orgId)).toMatchObject({ monthlyLimit: 500_000n })

    // The owner signs $0.01 a window, windows of an hour, and sends it from their own wallet.
    const receipt = await setTermsOnChain(chain, org, { limit: 10_000n, period: 3_600 })
    const block = await chain.deployer.getBlock({ blockNumber: receipt.blockNumber })

    const changes = await checkChainTruth(ctx, { orgIds: [org.orgId] })
    expect(changes).toEqual([])
    const synced = await getBillingSummary(db, org.orgId)
    // The collector restarted its windows at the new period: window 0 from that block, an hour long.
    expect(synced).toMatchObject({
      state: 'active',
      monthlyLimit: 10_000n,
      windowIndex: 0,
      windowStart: new Date(Number(block.timestamp) * 1000),
      windowEnd: new Date((Number(block.timestamp) + 3_600) * 1000),
    })

    // $0.007 fits the new limit; a second does not.
    const meter = makeMeter(db)
    await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
    await expect(meter.meter({ orgId: org.orgId, action: 'claim_issue' })).rejects.toMatchObject({
      code: 'SPEND_CAP_REACHED',
    })
    await meter.close()
    expect(await settleOnce(ctx, { orgIds: [org.orgId] })).toMatchObject({
      collected: 1,
      failed: [],
    })
    expect((await listCharges(db, { orgId: org.orgId }))[0]).toMatchObject({
      amount: 7_000n,
      status: 'collected',
    })
    expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
  })
})
