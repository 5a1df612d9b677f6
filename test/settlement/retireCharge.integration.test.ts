import { collectorAbi } from '../../src/chain/abis.js'
import {
  bookCharges,
  getBillingSummary,
  listCharges,
  markChargeFailed,
  reconcileLedger,
} from '../../src/ledger/index.js'
import { reconcileWithChain } from '../../src/settlement/reconcileWithChain.js'
import { retireCharge, retireSeq } from '../../src/settlement/retireCharge.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { subscriptionKey } from '../../src/subscriptions/typedData.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { authorizedOrg, settlementContext } from './helpers.js'

describe('retiring a seq that can never be collected', () => {
  test('the next seq collects, the retired one never does, and it is written off only after the receipt', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    const o = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    const key = subscriptionKey(o.subscriptionId)
    // Charge 1 can never be collected (a failure no retry clears); charge 2 waits behind it.
    await meter.meter({ orgId: o.orgId, action: 'claim_issue' })
    const [first] = await bookCharges(db, { orgId: o.orgId })
    await markChargeFailed(db, { chargeId: first!.id, reason: 'amount' })
    await meter.meter({ orgId: o.orgId, action: 'save_comment' })
    const blocked = await settleOnce(ctx, { orgIds: [o.orgId] })
    expect(blocked.collected).toBe(0)
    expect((await listCharges(db, { orgId: o.orgId })).find((c) => c.seq === 2)?.status).not.toBe(
      'collected',
    )

    // Refused, nothing sent or written off: a charge whose seq is not next, or one in no state to retire.
    const second = (await listCharges(db, { orgId: o.orgId })).find((c) => c.seq === 2)!
    await expect(retireCharge(ctx, { chargeId: second.id, reason: 'x' })).rejects.toMatchObject({
      code: 'RETIRE_REFUSED',
      details: { reason: 'not_next' },
    })
    await expect(retireCharge(ctx, { chargeId: first!.id, reason: ' ' })).rejects.toMatchObject({
      code: 'RETIRE_REFUSED',
    })
    expect(await getBillingSummary(db, o.orgId)).toMatchObject({ writtenOff: 0n })

    const retired = await retireCharge(ctx, { chargeId: first!.id, reason: 'lost off-chain' })
    expect(retired).toMatchObject({ seq: 1, amount: 7_000n, txHash: expect.stringMatching(/^0x/) })
    const receipt = await chain.deployer.getTransactionReceipt({ hash: retired.txHash })
    const logs = await chain.deployer.getContractEvents({
      address: chain.deployment.collector!,
      abi: collectorAbi,
      eventName: 'SeqRetired',
      fromBlock: receipt.blockNumber,
      toBlock: receipt.blockNumber,
    })
    expect(logs[0]?.args).toMatchObject({ subscription: key, seq: 1, reason: 'lost off-chain' })
    expect((await listCharges(db, { orgId: o.orgId })).find((c) => c.seq === 1)).toMatchObject({
      status: 'written_off',
      failureReason: 'retired: lost off-chain',
    })

    // The next seq collects; the retired one never can.
    expect(await settleOnce(ctx, { orgIds: [o.orgId] })).toMatchObject({ collected: 1 })
    await expect(
      chain.operator.simulateContract({
        address: chain.deployment.collector!,
        abi: collectorAbi,
        functionName: 'collect',
        args: [{ subscription: key, seq: 1, window: 0, amount: 7_000n }],
      }),
    ).rejects.toThrow(/CollectReverted/)
    await expect(retireCharge(ctx, { chargeId: first!.id, reason: 'again' })).rejects.toMatchObject(
      {
        details: { reason: 'seq_used' },
      },
    )
    expect(await getBillingSummary(db, o.orgId)).toMatchObject({
      drawn: 5_000n,
      writtenOff: 7_000n,
      booked: 0n,
    })
    expect(await reconcileLedger(db, { orgId: o.orgId })).toEqual([])
    await meter.close()
  })

  test('a seq with no charge row (lost off-chain) is retired by subscription and seq; the next collects', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    const o = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    // Seq 1 was allocated, and its charge row is gone (a database restored from before it).
    await db.$client`update subscriptions set last_seq = 1 where id = ${o.subscriptionId}`
    await meter.meter({ orgId: o.orgId, action: 'claim_issue' })
    await meter.close()
    expect(await settleOnce(ctx, { orgIds: [o.orgId] })).toMatchObject({ collected: 0 })
    const [charge] = await listCharges(db, { orgId: o.orgId })
    expect(charge).toMatchObject({ seq: 2 })
    expect(charge!.status).not.toBe('collected')

    const refused = (seq: number, reason: string) =>
      expect(
        retireSeq(ctx, { subscriptionId: o.subscriptionId, seq, reason: 'x' }),
      ).rejects.toMatchObject({ code: 'RETIRE_REFUSED', details: { reason } })
    await refused(2, 'has_charge')
    await refused(3, 'not_allocated')
    await expect(
      retireSeq(ctx, { subscriptionId: o.subscriptionId, seq: 1, reason: '  ' }),
    ).rejects.toMatchObject({ code: 'RETIRE_REFUSED', details: { reason: 'no_reason' } })
    await expect(
      retireSeq(ctx, { subscriptionId: 'nope', seq: 1, reason: 'x' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' })

    const retired = await retireSeq(ctx, {
      subscriptionId: o.subscriptionId,
      seq: 1,
      reason: 'row lost in a restore',
    })
    expect(retired).toMatchObject({ seq: 1, txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/) })
    const receipt = await chain.deployer.getTransactionReceipt({ hash: retired.txHash })
    const [event] = await chain.deployer.getContractEvents({
      address: chain.deployment.collector!,
      abi: collectorAbi,
      eventName: 'SeqRetired',
      fromBlock: receipt.blockNumber,
      toBlock: receipt.blockNumber,
    })
    expect(event?.args).toMatchObject({ seq: 1, reason: 'row lost in a restore' })
    await refused(1, 'seq_used')
    // Nothing was owed for it: nothing written off; the charge behind it collects.
    expect(await getBillingSummary(db, o.orgId)).toMatchObject({ writtenOff: 0n })
    expect(await settleOnce(ctx, { orgIds: [o.orgId] })).toMatchObject({ collected: 1 })
    expect((await listCharges(db, { orgId: o.orgId }))[0]).toMatchObject({
      seq: 2,
      status: 'collected',
    })
    expect(
      await reconcileWithChain(
        { db, client: chain.testClient, deployment: chain.deployment },
        { orgId: o.orgId },
      ),
    ).toEqual([])
  })
})
