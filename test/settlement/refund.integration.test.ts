import { parseEventLogs } from 'viem'
import { usdcAbi } from '../../src/chain/abis.js'
import {
  getBillingSummary,
  listCharges,
  reconcileCharges,
  reconcileLedger,
  refund,
} from '../../src/ledger/index.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { authorizedOrg, settlementContext } from './helpers.js'

describe('refunds against anvil and real USDC', () => {
  test('a refund of a collected charge nets into the next pull: smaller by exactly the refund', async ({
    db,
    chain,
  }) => {
    // A 50-cent threshold: what is left after the refund (70.5 cents) is due.
    const ctx = settlementContext(db, chain, { thresholdMicros: 500_000n })
    const meter = makeMeter(db)
    const org = await authorizedOrg(db, chain, { cap: 5_000_000n, balance: 3_000_000n })
    const comments = async (n: number) => {
      for (let i = 0; i < n; i++) await meter.meter({ orgId: org.orgId, action: 'save_comment' })
    }
    await comments(201) // 1,005,000: over the $1.00 threshold
    expect(await settleOnce(ctx, { orgIds: [org.orgId] })).toMatchObject({ collected: 1 })
    const [first] = await listCharges(db, { orgId: org.orgId })
    expect(first).toMatchObject({ status: 'collected', amount: 1_005_000n })
    await comments(201) // another 1,005,000 accrued
    const r = await refund(db, {
      chargeId: first!.id,
      amount: 300_000n,
      reason: 'a job of that charge failed later',
      actor: 'ops@test',
      idempotencyKey: 'refund-1',
    })
    expect(r).toMatchObject({ nettedMicros: '300000', owedOnchainMicros: '0' })
    // The retry changes nothing.
    expect(
      await refund(db, {
        chargeId: first!.id,
        amount: 300_000n,
        reason: 'a job of that charge failed later',
        actor: 'ops@test',
        idempotencyKey: 'refund-1',
      }),
    ).toEqual({ ...r, replayed: true })
    const report = await settleOnce(ctx, { orgIds: [org.orgId] })
    expect(report).toMatchObject({ collected: 1, failed: [] })
    const receipt = await chain.deployer.getTransactionReceipt({ hash: report.txHashes[0]! })
    const transfers = parseEventLogs({ abi: usdcAbi, logs: receipt.logs, eventName: 'Transfer' })
    expect(transfers.map((t) => [t.args.from, t.args.to, t.args.value])).toEqual([
      [org.owner.address, chain.deployment.payee, 705_000n],
    ])
    expect(await getBillingSummary(db, org.orgId)).toMatchObject({
      accrued: 0n,
      booked: 0n,
      collected: 1_710_000n,
      drawn: 1_710_000n,
    })
    expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
    expect(await reconcileCharges(db, { orgId: org.orgId })).toEqual([])
    await meter.close()
  })
})
