import { indexChain, listPayments } from '../../src/settlement/indexChain.js'
import { reconcileWithChain } from '../../src/settlement/reconcileWithChain.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { authorizedOrg, settlementContext } from './helpers.js'

describe('payment history from the chain', () => {
  test('indexes collections, rolls back a reorg, and reconcile sees the chain', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    const a = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    await meter.meter({ orgId: a.orgId, action: 'claim_issue' })
    await settleOnce(ctx, { orgIds: [a.orgId] })
    await indexChain(ctx)
    const rows = await listPayments(db, { subscriptionId: a.subscriptionId })
    expect(rows).toMatchObject([
      { event: 'Collected', seq: 1, windowIndex: 0, amount: 7_000n, explorerUrl: null },
    ])
    // The authorization is in the history too, with the allowance the permit set.
    const all = await listPayments(db, {
      subscriptionId: a.subscriptionId,
      events: ['Collected', 'ChargeFailed', 'Authorized', 'Canceled'],
    })
    expect(all.map((r) => r.event)).toEqual(['Collected', 'Authorized'])
    expect(all[1]).toMatchObject({ amount: 1_000_000n, seq: 0 })
    // The token's Transfer to the payee is mirrored too, paired with its collection.
    const [transfer] = await listPayments(db, {
      subscriptionId: a.subscriptionId,
      events: ['Transfer'],
    })
    expect(transfer).toMatchObject({
      event: 'Transfer',
      seq: 1,
      amount: 7_000n,
      txHash: rows[0]!.txHash,
      explorerUrl: null,
    })
    expect(await reconcileWithChain(ctx, { orgId: a.orgId })).toEqual([])
    // Indexing again adds nothing.
    expect((await indexChain(ctx)).inserted).toBe(0)

    // A second org's collection lands, is indexed, and then a reorg removes its block.
    const b = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    await meter.meter({ orgId: b.orgId, action: 'save_comment' })
    const snapshot = await chain.testClient.snapshot()
    await settleOnce(ctx, { orgIds: [b.orgId] })
    await indexChain(ctx)
    expect(await listPayments(db, { subscriptionId: b.subscriptionId })).toHaveLength(1)
    await chain.testClient.revert({ id: snapshot })
    await chain.testClient.mine({ blocks: 3 })
    const after = await indexChain(ctx)
    expect(after.rolledBack).toBeGreaterThanOrEqual(1)
    expect(await listPayments(db, { subscriptionId: b.subscriptionId })).toEqual([])
    // The first org's row, below the reorg, is still there exactly once.
    expect(await listPayments(db, { subscriptionId: a.subscriptionId })).toHaveLength(1)
    expect(
      await listPayments(db, { subscriptionId: b.subscriptionId, events: ['Transfer'] }),
    ).toEqual([])
    // The ledger still believes b was collected: reconcile reports it to the micro-credit.
    const mismatches = await reconcileWithChain(ctx, { orgId: b.orgId })
    expect(mismatches).toContainEqual(
      expect.objectContaining({
        check: `drawn = collector totalCollected (${b.subscriptionId})`,
        expected: '0',
        actual: '5000',
      }),
    )
    await meter.close()
  })

  test("anvil_reorg at the same height: the replaced blocks' rows go, none are doubled or phantom", async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    const c = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    await meter.meter({ orgId: c.orgId, action: 'claim_issue' })
    await settleOnce(ctx, { orgIds: [c.orgId] })
    await chain.testClient.mine({ blocks: 1 })
    await indexChain(ctx)
    const before = await listPayments(db, {
      subscriptionId: c.subscriptionId,
      events: ['Collected', 'Transfer'],
    })
    expect(before.map((r) => r.event).sort()).toEqual(['Collected', 'Transfer'])
    const height = await chain.deployer.getBlockNumber({ cacheTime: 0 })
    // Replace the last 2 blocks (the collection's and the one after) with empty ones.
    await chain.testClient.request({ method: 'anvil_reorg', params: [2, []] } as never)
    expect(await chain.deployer.getBlockNumber({ cacheTime: 0 })).toBe(height)
    const report = await indexChain(ctx)
    expect(report.rolledBack).toBeGreaterThanOrEqual(2)
    expect(
      await listPayments(db, {
        subscriptionId: c.subscriptionId,
        events: ['Collected', 'Transfer', 'ChargeFailed'],
      }),
    ).toEqual([])
    // Every remaining row sits on the canonical chain: its block hash is the chain's.
    const rows = await db.$client<{ block_number: bigint; block_hash: string }[]>`
      select distinct block_number, block_hash from payment_history where chain_id = ${chain.deployment.chainId}`
    for (const r of rows)
      expect((await chain.deployer.getBlock({ blockNumber: r.block_number })).hash).toBe(
        r.block_hash,
      )
    // No row twice.
    const [dupes] = await db.$client<{ n: bigint }[]>`
      select count(*)::int8 as n from (select 1 from payment_history group by chain_id, tx_hash, log_index having count(*) > 1) d`
    expect(dupes!.n).toBe(0n)
    await meter.close()
  })
})
