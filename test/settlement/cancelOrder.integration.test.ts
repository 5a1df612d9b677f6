import { usdcAbi } from '../../src/chain/abis.js'
import { mintUsdc } from '../../src/chain/deployContracts.js'
import { getBillingSummary, listCharges, reconcileLedger } from '../../src/ledger/index.js'
import { cancelSubscription } from '../../src/settlement/cancelSubscription.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { CANCEL_MIN_SECONDS_LEFT } from '../../src/subscriptions/cancelWithPermit.js'
import { submitAuthorization } from '../../src/subscriptions/submitAuthorization.js'
import { describe, expect, type TestChain, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { signAuthorization } from '../subscriptions/helpers.js'
import { answered } from '../support/answered.js'
import { authorizeOnCollector } from '../support/authorizeOnCollector.js'
import { readSubscription } from '../support/readSubscription.js'
import { signOwnerCancel } from '../support/signOwnerCancel.js'
import { authorizedOrg, settlementContext } from './helpers.js'

type Org = Awaited<ReturnType<typeof authorizedOrg>>

const allowanceOf = (chain: TestChain, o: Org) =>
  chain.deployer.readContract({
    address: chain.deployment.usdc,
    abi: usdcAbi,
    functionName: 'allowance',
    args: [o.owner.address, chain.deployment.collector!],
  })

const statusOf = async (chain: TestChain, o: Org) =>
  (await readSubscription(chain, o.subscriptionId)).status

describe('cancel: verified first, written off only after the receipt, nothing left behind', () => {
  test('a junk cancel signature is a 400 that changes nothing: nothing settled or written off, the subscription still collectable', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    // An owner short of funds: a settle-then-write-off cancel would write this charge off.
    const o = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 100n })
    await meter.meter({ orgId: o.orgId, action: 'claim_issue' })
    expect(await settleOnce(ctx, { orgIds: [o.orgId] })).toMatchObject({ collected: 0 })
    const before = await getBillingSummary(db, o.orgId)
    const good = await signOwnerCancel(chain, o.owner, { subscriptionId: o.subscriptionId })
    const flippedV = good.signature.endsWith('1b') ? '1c' : '1b'
    const junk: `0x${string}`[] = [
      `0x${'11'.repeat(65)}`,
      `0x${good.signature.slice(2, -2)}${flippedV}`,
    ]
    for (const signature of junk) {
      const refused = await cancelSubscription(ctx, {
        orgId: o.orgId,
        subscriptionId: o.subscriptionId,
        ...good,
        signature,
      }).catch((e) => e)
      expect(answered(refused)).toMatchObject({ code: 'SIGNATURE_REJECTED', status: 400 })
    }
    const after = await getBillingSummary(db, o.orgId)
    expect(after).toMatchObject({ state: before.state, writtenOff: 0n, booked: before.booked })
    expect((await listCharges(db, { orgId: o.orgId })).map((c) => c.status)).not.toContain(
      'written_off',
    )
    expect(await statusOf(chain, o)).toBe(1)
    // Still collectable: once the owner has funds (and re-ups), the very charge is collected.
    await mintUsdc(chain.deployer, chain.deployment, { to: o.owner.address, amount: 1_000_000n })
    const reup = await signAuthorization(chain, o.owner, {
      subscriptionId: o.subscriptionId,
      value: 1_000_000n,
    })
    await submitAuthorization(ctx, { orgId: o.orgId, subscriptionId: o.subscriptionId, auth: reup })
    expect(await settleOnce(ctx, { orgIds: [o.orgId] })).toMatchObject({ collected: 1 })
    expect(await getBillingSummary(db, o.orgId)).toMatchObject({ writtenOff: 0n, booked: 0n })
    expect(await reconcileLedger(db, { orgId: o.orgId })).toEqual([])
    await meter.close()
  })

  test('a cancel signature without time left for settlement is refused before anything runs', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain)
    const meter = makeMeter(db)
    const o = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 100n })
    await meter.meter({ orgId: o.orgId, action: 'claim_issue' })
    const soon = BigInt(Math.floor(Date.now() / 1000) + CANCEL_MIN_SECONDS_LEFT - 30)
    const refused = await cancelSubscription(ctx, {
      orgId: o.orgId,
      subscriptionId: o.subscriptionId,
      ...(await signOwnerCancel(chain, o.owner, {
        subscriptionId: o.subscriptionId,
        deadline: soon,
      })),
    }).catch((e) => e)
    expect(refused).toMatchObject({ code: 'SIGNATURE_REJECTED', details: { reason: 'expired' } })
    expect(await getBillingSummary(db, o.orgId)).toMatchObject({
      state: 'active',
      accrued: 7_000n,
      booked: 0n,
      writtenOff: 0n,
    })
    expect(await statusOf(chain, o)).toBe(1)
    await meter.close()
  })

  test('a cancel leaves the allowance at 0 on-chain, and a permit signed before it can no longer be used', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain)
    const o = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    expect(await allowanceOf(chain, o)).toBe(1_000_000n)
    // A top-up the owner signed but nobody submitted.
    const stale = await signAuthorization(chain, o.owner, {
      subscriptionId: o.subscriptionId,
      value: 5_000_000n,
    })
    const result = await cancelSubscription(ctx, {
      orgId: o.orgId,
      subscriptionId: o.subscriptionId,
      ...(await signOwnerCancel(chain, o.owner, { subscriptionId: o.subscriptionId })),
    })
    expect(result.txHash).toMatch(/^0x/)
    expect(await statusOf(chain, o)).toBe(2)
    expect(await allowanceOf(chain, o)).toBe(0n)
    expect(await getBillingSummary(db, o.orgId)).toMatchObject({ state: 'canceled' })
    // The stale permit is void at the token (its nonce went to the cancel) and at the collector.
    await expect(
      chain.deployer.simulateContract({
        address: chain.deployment.usdc,
        abi: usdcAbi,
        functionName: 'permit',
        args: [
          o.owner.address,
          chain.deployment.collector!,
          stale.permit.value,
          stale.permit.deadline,
          stale.permit.signature,
        ],
      }),
    ).rejects.toThrow(/invalid signature/)
    await expect(
      authorizeOnCollector(chain, {
        subscriptionId: 'ef'.repeat(16),
        owner: o.owner.address,
        permit: stale.permit,
        terms: {
          cap: 5_000_000n,
          limit: 0n,
          period: 30 * 86_400,
          nonce: 1,
          deadline: stale.permit.deadline,
          signature: stale.permit.signature,
        },
      }),
    ).rejects.toThrow(/PermitNonceUsed|InvalidSignature/)
    expect(await allowanceOf(chain, o)).toBe(0n)
  })
})
