import { parseEventLogs } from 'viem'
import { collectorAbi, usdcAbi } from '../../src/chain/abis.js'
import { getBillingSummary, listCharges, reconcileLedger } from '../../src/ledger/index.js'
import { checkChainTruth } from '../../src/settlement/checkChainTruth.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { submitAuthorization } from '../../src/subscriptions/submitAuthorization.js'
import { subscriptionKey } from '../../src/subscriptions/typedData.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { signAuthorization } from '../subscriptions/helpers.js'
import { authorizeOwner, permitValueForNewCap } from '../support/authorizeOwner.js'
import { usdcBalance } from '../support/usdcBalance.js'
import { authorizedOrg, settlementContext } from './helpers.js'

describe('settlement against anvil and real USDC', () => {
  test('the full loop: usage → threshold → batch pull → ledger agrees with the Transfer events', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain)
    const meter = makeMeter(db)
    const orgs = await Promise.all(
      [0, 1, 2].map(() => authorizedOrg(db, chain, { cap: 5_000_000n, balance: 3_000_000n })),
    )
    // Two orgs cross the $1.00 threshold, one stays under it.
    for (let i = 0; i < 150; i++)
      await meter.meter({ orgId: orgs[0]!.orgId, action: 'claim_issue' }) // 1,050,000
    for (let i = 0; i < 201; i++)
      await meter.meter({ orgId: orgs[1]!.orgId, action: 'save_comment' }) // 1,005,000
    await meter.meter({ orgId: orgs[2]!.orgId, action: 'heartbeat' })
    const payee = chain.deployment.payee
    const before = await usdcBalance(chain, payee)
    const report = await settleOnce(ctx, { orgIds: orgs.map((o) => o.orgId) })
    expect(report).toMatchObject({ booked: 2, batches: 1, collected: 2, failed: [] })
    const after = await usdcBalance(chain, payee)
    expect(after - before).toBe(2_055_000n)
    const receipt = await chain.deployer.getTransactionReceipt({ hash: report.txHashes[0]! })
    const transfers = parseEventLogs({ abi: usdcAbi, logs: receipt.logs, eventName: 'Transfer' })
    // The batch is ordered by subscription id (random), so compare as a set.
    const pulled = new Map(transfers.map((t) => [t.args.from, t.args.value]))
    expect(pulled).toEqual(
      new Map([
        [orgs[0]!.owner.address, 1_050_000n],
        [orgs[1]!.owner.address, 1_005_000n],
      ]),
    )
    expect(transfers.every((t) => t.args.to === payee)).toBe(true)
    const s0 = await getBillingSummary(db, orgs[0]!.orgId)
    expect(s0).toMatchObject({
      accrued: 0n,
      booked: 0n,
      drawn: 1_050_000n,
      collected: 1_050_000n,
      cap: 5_000_000n,
      remaining: 3_950_000n,
    })
    expect(await getBillingSummary(db, orgs[2]!.orgId)).toMatchObject({ accrued: 100n, drawn: 0n })
    for (const o of orgs) expect(await reconcileLedger(db, { orgId: o.orgId })).toEqual([])
    // Nothing more is due: a second pass sends nothing.
    expect(await settleOnce(ctx, { orgIds: orgs.map((o) => o.orgId) })).toMatchObject({
      batches: 0,
      collected: 0,
    })
    await meter.close()
  })

  test('allowance drawn down → needs_reauth → fresh permit → same subscription active → next charge collects', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    const { orgId, subscriptionId, owner } = await authorizedOrg(db, chain, {
      cap: 20_000n,
      balance: 1_000_000n,
    })
    await meter.meter({ orgId, action: 'claim_issue' })
    await meter.meter({ orgId, action: 'claim_issue' })
    const refused = await meter.meter({ orgId, action: 'claim_issue' }).catch((e) => e)
    expect(refused.code).toBe('BILLING_INACTIVE')
    expect((await getBillingSummary(db, orgId)).state).toBe('needs_reauth')
    // Re-authorize: the owner signs a new cap on the same subscription.
    // Nothing collected or booked yet, so the new cap is the whole permit value.
    const value = await permitValueForNewCap(db, { orgId, cap: 100_000n })
    expect(value).toBe(100_000n)
    const auth = await signAuthorization(chain, owner, { subscriptionId, value })
    await authorizeOwner(
      { db, operator: chain.operator, deployment: chain.deployment },
      { orgId, subscriptionId, owner: auth.owner, permit: auth.permit, terms: auth.terms },
    )
    expect(await getBillingSummary(db, orgId)).toMatchObject({ subscriptionId, state: 'active' })
    await meter.meter({ orgId, action: 'claim_issue' })
    const report = await settleOnce(ctx, { orgIds: [orgId] })
    expect(report.collected).toBe(1)
    expect(await getBillingSummary(db, orgId)).toMatchObject({ drawn: 21_000n, accrued: 0n })
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await meter.close()
  })

  test('an allowance the owner lowered (not to 0) lowers the headroom; below what is owed → needs_reauth', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    const lowered = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    const under = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    for (const o of [lowered, under]) {
      for (let i = 0; i < 2; i++) await meter.meter({ orgId: o.orgId, action: 'claim_issue' })
      await chain.testClient.setBalance({ address: o.owner.address, value: 10n ** 18n })
    }
    const approve = async (o: typeof lowered, value: bigint) =>
      await chain.deployer.waitForTransactionReceipt({
        hash: await (await chain.signerFor(o.ownerKey)).writeContract({
          address: chain.deployment.usdc,
          abi: usdcAbi,
          functionName: 'approve',
          args: [chain.deployment.collector!, value],
        }),
      })
    await approve(lowered, 500_000n)
    await approve(under, 5_000n) // less than the 14,000 already accrued
    expect(await checkChainTruth(ctx, { orgIds: [lowered.orgId, under.orgId] })).toEqual([
      { subscriptionId: under.subscriptionId, to: 'needs_reauth', reason: 'allowance_reduced' },
    ])
    expect(await getBillingSummary(db, under.orgId)).toMatchObject({
      state: 'needs_reauth',
      stateReason: 'allowance_reduced',
    })
    expect(await getBillingSummary(db, lowered.orgId)).toMatchObject({
      state: 'active',
      remaining: 500_000n - 14_000n,
    })
    // Checked again, nothing moves twice; what was accrued is pulled, and both numbers agree.
    expect(await checkChainTruth(ctx, { orgIds: [lowered.orgId] })).toEqual([])
    expect(await settleOnce(ctx, { orgIds: [lowered.orgId] })).toMatchObject({ collected: 1 })
    const chainAllowance = () =>
      chain.deployer.readContract({
        address: chain.deployment.usdc,
        abi: usdcAbi,
        functionName: 'allowance',
        args: [lowered.owner.address, chain.deployment.collector!],
      })
    expect(await chainAllowance()).toBe(486_000n)
    expect(await getBillingSummary(db, lowered.orgId)).toMatchObject({ remaining: 486_000n })
    expect(await checkChainTruth(ctx, { orgIds: [lowered.orgId] })).toEqual([])
    // The gate now stops at the chain's allowance: 71 actions of $0.007 fit $0.50, the 72nd not.
    let accepted = 2
    let refused: unknown
    while (!refused) {
      refused = await meter.meter({ orgId: lowered.orgId, action: 'claim_issue' }).then(
        () => void accepted++,
        (e) => e,
      )
    }
    expect(accepted).toBe(71)
    expect((refused as { code: string }).code).toBe('BILLING_INACTIVE')
    expect((await getBillingSummary(db, lowered.orgId)).state).toBe('needs_reauth')
    expect(await usdcBalance(chain, lowered.owner.address)).toBe(1_000_000n - 14_000n)
    expect(await reconcileLedger(db, { orgId: lowered.orgId })).toEqual([])
  })

  test('empty balance, revoked allowance, blacklisted payer → lapsed with the reason; re-up recovers', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    const broke = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000n })
    const revoked = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    const listed = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    for (const o of [broke, revoked, listed])
      await meter.meter({ orgId: o.orgId, action: 'claim_issue' })
    // The owner revokes on-chain; the blacklister lists the third payer.
    await chain.testClient.setBalance({ address: revoked.owner.address, value: 10n ** 18n })
    const revoker = await chain.signerFor(revoked.ownerKey)
    await revoker.writeContract({
      address: chain.deployment.usdc,
      abi: usdcAbi,
      functionName: 'approve',
      args: [chain.deployment.collector!, 0n],
    })
    const blacklister = await chain.signerFor(
      (await import('../../src/config/index.js')).anvilKeys[0],
    )
    await blacklister.writeContract({
      address: chain.deployment.usdc,
      abi: usdcAbi,
      functionName: 'blacklist',
      args: [listed.owner.address],
    })
    const report = await settleOnce(ctx, { orgIds: [broke.orgId, revoked.orgId, listed.orgId] })
    expect(report.collected).toBe(0)
    // The chain is read before booking: the revoked and the blacklisted payer are never pulled;
    // the broke one is tried, and the declined pull says why.
    expect(report.failed.map((f) => f.reason)).toEqual(['balance'])
    expect(await getBillingSummary(db, broke.orgId)).toMatchObject({
      state: 'lapsed',
      stateReason: 'pull_failed:balance',
    })
    expect(await getBillingSummary(db, revoked.orgId)).toMatchObject({
      state: 'lapsed',
      stateReason: 'allowance_revoked',
    })
    expect(await getBillingSummary(db, listed.orgId)).toMatchObject({
      state: 'lapsed',
      stateReason: 'blacklisted',
    })
    const [charge] = await listCharges(db, { orgId: broke.orgId })
    expect(charge).toMatchObject({ status: 'failed', failureReason: 'balance' })
    // Re-up: the broke owner is funded and signs again; the same charge (same seq) collects.
    const { mintUsdc } = await import('../../src/chain/deployContracts.js')
    await mintUsdc(chain.deployer, chain.deployment, { to: broke.owner.address, amount: 100_000n })
    const auth = await signAuthorization(chain, broke.owner, {
      subscriptionId: broke.subscriptionId,
      value: 1_000_000n,
    })
    await submitAuthorization(
      { db, operator: chain.operator, deployment: chain.deployment },
      { orgId: broke.orgId, subscriptionId: broke.subscriptionId, auth },
    )
    const again = await settleOnce(ctx, { orgIds: [broke.orgId] })
    expect(again.collected).toBe(1)
    const [collected] = await listCharges(db, { orgId: broke.orgId })
    expect(collected).toMatchObject({ id: charge!.id, seq: 1, status: 'collected' })
    for (const o of [broke, revoked, listed])
      expect(await reconcileLedger(db, { orgId: o.orgId })).toEqual([])
    await meter.close()
  })

  test('a paused token → lapsed (token_paused) by the chain-truth check; unpaused and re-upped → active', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const o = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    const pause = async (functionName: 'pause' | 'unpause') =>
      chain.deployer.waitForTransactionReceipt({
        hash: await chain.deployer.writeContract({
          address: chain.deployment.usdc,
          abi: usdcAbi,
          functionName,
        }),
      })
    await pause('pause')
    try {
      expect(await checkChainTruth(ctx, { orgIds: [o.orgId] })).toEqual([
        { subscriptionId: o.subscriptionId, to: 'lapsed', reason: 'token_paused' },
      ])
      expect(await getBillingSummary(db, o.orgId)).toMatchObject({
        state: 'lapsed',
        stateReason: 'token_paused',
      })
    } finally {
      await pause('unpause')
    }
    const auth = await signAuthorization(chain, o.owner, {
      subscriptionId: o.subscriptionId,
      value: 1_000_000n,
    })
    await authorizeOwner(ctx, {
      orgId: o.orgId,
      subscriptionId: o.subscriptionId,
      owner: auth.owner,
      permit: auth.permit,
      terms: auth.terms,
    })
    expect(await checkChainTruth(ctx, { orgIds: [o.orgId] })).toEqual([])
    expect((await getBillingSummary(db, o.orgId)).state).toBe('active')
  })

  test('an owner who cancels with their own transaction is never shown active; what is owed is written off', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    const o = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    await meter.meter({ orgId: o.orgId, action: 'save_comment' })
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
    expect(await checkChainTruth(ctx, { orgIds: [o.orgId] })).toEqual([
      { subscriptionId: o.subscriptionId, to: 'canceled', reason: 'canceled_on_chain' },
    ])
    expect(await getBillingSummary(db, o.orgId)).toMatchObject({
      state: 'canceled',
      accrued: 0n,
      booked: 0n,
      writtenOff: 5_000n,
    })
    expect(await reconcileLedger(db, { orgId: o.orgId })).toEqual([])
    await meter.close()
  })
})
