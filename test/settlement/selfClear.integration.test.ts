import { usdcAbi } from '../../src/chain/abis.js'
import { mintUsdc } from '../../src/chain/deployContracts.js'
import { getBillingSummary, listCharges, reconcileLedger } from '../../src/ledger/index.js'
import { checkChainTruth } from '../../src/settlement/checkChainTruth.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { authorizedOrg, settlementContext } from './helpers.js'

describe('lapses whose cause clears by itself', () => {
  test('a paused token lapses the subscription; unpaused, the next check makes it active again and the charge is collected, with no signature from the owner', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    const pause = async (functionName: 'pause' | 'unpause') =>
      chain.deployer.waitForTransactionReceipt({
        hash: await chain.deployer.writeContract({
          address: chain.deployment.usdc,
          abi: usdcAbi,
          functionName,
        }),
      })
    try {
      const o = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
      await meter.meter({ orgId: o.orgId, action: 'claim_issue' })
      await pause('pause')
      try {
        expect(await settleOnce(ctx, { orgIds: [o.orgId] })).toMatchObject({ batches: 0 })
        expect(await getBillingSummary(db, o.orgId)).toMatchObject({
          state: 'lapsed',
          stateReason: 'token_paused',
        })
        // Still paused: read again, left as it is.
        expect(await checkChainTruth(ctx, { orgIds: [o.orgId] })).toEqual([])
      } finally {
        await pause('unpause')
      }
      expect(await checkChainTruth(ctx, { orgIds: [o.orgId] })).toEqual([
        { subscriptionId: o.subscriptionId, to: 'active', reason: 'cleared:token_paused' },
      ])
      expect(await settleOnce(ctx, { orgIds: [o.orgId] })).toMatchObject({
        collected: 1,
        failed: [],
      })
      expect(await reconcileLedger(db, { orgId: o.orgId })).toEqual([])
    } finally {
      await meter.close()
    }
  })

  test('a pull declined for balance lapses it; once the wallet holds the charge, the check makes it active and the same charge is collected', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    try {
      const o = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000n })
      await meter.meter({ orgId: o.orgId, action: 'claim_issue' })
      const declined = await settleOnce(ctx, { orgIds: [o.orgId] })
      expect(declined.failed.map((f) => f.reason)).toEqual(['balance'])
      expect(await getBillingSummary(db, o.orgId)).toMatchObject({
        state: 'lapsed',
        stateReason: 'pull_failed:balance',
      })
      // $0.001 more is not enough for the $0.007 owed: it stays lapsed, nothing is sent.
      await mintUsdc(chain.deployer, chain.deployment, { to: o.owner.address, amount: 1_000n })
      expect(await checkChainTruth(ctx, { orgIds: [o.orgId] })).toEqual([])
      expect(await settleOnce(ctx, { orgIds: [o.orgId] })).toMatchObject({ batches: 0 })
      // Funded: active again, and the failed charge (same seq) is collected.
      await mintUsdc(chain.deployer, chain.deployment, { to: o.owner.address, amount: 10_000n })
      expect(await checkChainTruth(ctx, { orgIds: [o.orgId] })).toEqual([
        { subscriptionId: o.subscriptionId, to: 'active', reason: 'cleared:pull_failed:balance' },
      ])
      expect(await settleOnce(ctx, { orgIds: [o.orgId] })).toMatchObject({
        collected: 1,
        failed: [],
      })
      expect((await listCharges(db, { orgId: o.orgId })).map((c) => [c.seq, c.status])).toEqual([
        [1, 'collected'],
      ])
      expect(await reconcileLedger(db, { orgId: o.orgId })).toEqual([])
    } finally {
      await meter.close()
    }
  })

  test('a lapse that needs the owner is not cleared: a revoked allowance replaces the reason', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    try {
      const o = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000n })
      await meter.meter({ orgId: o.orgId, action: 'claim_issue' })
      await settleOnce(ctx, { orgIds: [o.orgId] })
      await mintUsdc(chain.deployer, chain.deployment, { to: o.owner.address, amount: 100_000n })
      await chain.testClient.setBalance({ address: o.owner.address, value: 10n ** 18n })
      const owner = await chain.signerFor(o.ownerKey)
      await owner.waitForTransactionReceipt({
        hash: await owner.writeContract({
          address: chain.deployment.usdc,
          abi: usdcAbi,
          functionName: 'approve',
          args: [chain.deployment.collector!, 0n],
        }),
      })
      expect(await checkChainTruth(ctx, { orgIds: [o.orgId] })).toEqual([
        { subscriptionId: o.subscriptionId, to: 'lapsed', reason: 'allowance_revoked' },
      ])
      expect(await checkChainTruth(ctx, { orgIds: [o.orgId] })).toEqual([])
      expect((await getBillingSummary(db, o.orgId)).state).toBe('lapsed')
    } finally {
      await meter.close()
    }
  })
})
