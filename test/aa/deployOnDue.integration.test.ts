import { type Address, parseEventLogs } from 'viem'
import { collectorAbi } from '../../src/chain/abis.js'
import { getBillingSummary, reconcileLedger } from '../../src/ledger/index.js'
import { cancelSubscription } from '../../src/settlement/cancelSubscription.js'
import { checkChainTruth } from '../../src/settlement/checkChainTruth.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import type { SignedAuthorization } from '../../src/subscriptions/authorization.js'
import { getUnsubmittedHeld } from '../../src/subscriptions/heldAuthorizations.js'
import { sendAuthorization } from '../../src/subscriptions/sendAuthorization.js'
import { describe, expect, type TestChain, test } from '../fixtures.js'
import { makeMeter, newOrg } from '../ledger/helpers.js'
import { settlementContext } from '../settlement/helpers.js'
import { authorizeOnCollector } from '../support/authorizeOnCollector.js'
import { authorizeOwner } from '../support/authorizeOwner.js'
import { deploySmartAccount } from '../support/deploySmartAccount.js'
import { readSubscription } from '../support/readSubscription.js'
import { signOwnerCancel } from '../support/signOwnerCancel.js'
import { usdcBalance } from '../support/usdcBalance.js'
import { aaRig, frontRunPermit, newSmartOwner, signOwnerAuthorization } from './helpers.js'

const operatorNonce = (chain: TestChain) =>
  chain.operator.getTransactionCount({ address: chain.operator.account.address })
const hasCode = async (chain: TestChain, address: Address) => {
  const code = await chain.deployer.getCode({ address })
  return code !== undefined && code !== '0x'
}
const heldRow = async (db: Parameters<typeof getBillingSummary>[0], subscriptionId: string) => {
  const [row] = await db.$client<
    { submitted_at: string | null; tx_hash: string | null; dropped_reason: string | null }[]
  >`select submitted_at, tx_hash, dropped_reason from held_authorizations where subscription_id = ${subscriptionId}`
  return row
}

/** `n` claims ($0.007 each) metered for the org, at `clock` when given. */
/** One settlement run for `orgId`, every accrued micro-credit due. */
const settleOrg = (db: Parameters<typeof getBillingSummary>[0], chain: TestChain, orgId: string) =>
  settleOnce(settlementContext(db, chain, { thresholdMicros: 1n }), { orgIds: [orgId] })

const meterClaims = async (
  db: Parameters<typeof getBillingSummary>[0],
  orgId: string,
  n: number,
  clock?: () => bigint,
) => {
  const meter = makeMeter(db, clock)
  const outcomes = []
  for (let i = 0; i < n; i++) outcomes.push(await meter.meter({ orgId, action: 'claim_issue' }))
  await meter.close()
  return outcomes
}

/**
 * Issue #8: a counterfactual owner's wallet is deployed — through the unprivileged 6492
 * validator — only when a charge is due and its balance covers it, so a sign-up that never pays
 * never costs the operator a deployment. Real Safe accounts (permissionless), real USDC on anvil.
 */
describe('a counterfactual Safe owner: authorization held until the first charge is due', () => {
  /** A counterfactual Safe holding `usdc`, its org, and its held authorization (cap $2). */
  async function heldOwner(
    chain: TestChain,
    db: Parameters<typeof getBillingSummary>[0],
    p: { usdc: bigint; deadline?: bigint; terms?: boolean; limit?: bigint },
  ) {
    const rig = await aaRig(chain)
    const owner = await newSmartOwner(chain, rig, { kind: 'safe', deployed: false, usdc: p.usdc })
    const wallet = owner.account.address
    const { orgId, subscriptionId } = await newOrg(db, 0n)
    const auth: SignedAuthorization = await signOwnerAuthorization(chain, owner.account, {
      subscriptionId,
      value: 2_000_000n,
      deadline: p.deadline,
      terms: p.terms ? { limit: p.limit ?? 1_000_000n, nonce: 1 } : undefined,
    })
    const before = await operatorNonce(chain)
    const result = await authorizeOwner(
      { db, operator: chain.operator, deployment: chain.deployment },
      { orgId, subscriptionId, owner: wallet, permit: auth.permit, terms: auth.terms },
    )
    expect(result).toEqual({ txHash: null, held: true, allowance: 2_000_000n })
    expect(await operatorNonce(chain)).toBe(before)
    return { owner, wallet, orgId, subscriptionId, auth }
  }

  test('(a) authorizing sends nothing: operator nonce unchanged, no code at the owner; active, and metered usage is accepted; a re-sign replaces the held one', async ({
    db,
    chain,
  }) => {
    const nonce = await operatorNonce(chain)
    const { owner, wallet, orgId, subscriptionId } = await heldOwner(chain, db, {
      usdc: 1_000_000n,
      terms: true,
    })
    expect(await hasCode(chain, wallet)).toBe(false)
    expect(await getBillingSummary(db, orgId)).toMatchObject({
      state: 'active',
      cap: 2_000_000n,
      remaining: 2_000_000n,
      monthlyLimit: 1_000_000n,
    })
    expect(await heldRow(db, subscriptionId)).toEqual({
      submitted_at: null,
      tx_hash: null,
      dropped_reason: null,
    })
    // The chain has nothing yet (allowance 0, no collector subscription): that is no revocation.
    const ctx = settlementContext(db, chain)
    expect(await checkChainTruth(ctx, { orgIds: [orgId] })).toEqual([])
    const meter = makeMeter(db)
    const outcome = await meter.meter({ orgId, action: 'claim_issue' })
    expect(outcome).toMatchObject({ billableMicros: '7000', voucherMicros: '0' })
    await meter.close()
    // Below the $1 threshold nothing is due: settlement sends nothing either.
    expect(await settleOnce(ctx, { orgIds: [orgId] })).toMatchObject({ booked: 0, batches: 0 })
    const before = await getBillingSummary(db, orgId)
    expect(before).toMatchObject({ state: 'active', accrued: 7_000n })

    // A re-sign before submission (a higher cap) replaces the held one; still nothing sent, and
    // the provisional windows keep their start.
    const raised = await signOwnerAuthorization(chain, owner.account, {
      subscriptionId,
      value: 3_000_000n,
      terms: { limit: 1_000_000n, nonce: 1 },
    })
    expect(
      await authorizeOwner(
        { db, operator: chain.operator, deployment: chain.deployment },
        { orgId, subscriptionId, ...raised },
      ),
    ).toEqual({ txHash: null, held: true, allowance: 3_000_000n })
    const [row] = await db.$client<{ permit_value: string; n: bigint }[]>`
      select permit_value, (select count(*) from held_authorizations where subscription_id = ${subscriptionId})::int8 as n
      from held_authorizations where subscription_id = ${subscriptionId}`
    expect(row).toEqual({ permit_value: '3000000', n: 1n })
    expect(await getBillingSummary(db, orgId)).toMatchObject({
      state: 'active',
      cap: 3_000_000n,
      accrued: 7_000n,
      spentThisWindow: 7_000n,
      windowStart: before.windowStart,
    })
    expect(await operatorNonce(chain)).toBe(nonce)
    expect(await hasCode(chain, wallet)).toBe(false)
  })

  test('(b) a charge due but the wallet short of it: settleOnce sends nothing, deploys nothing; lapsed balance_short', async ({
    db,
    chain,
  }) => {
    const { wallet, orgId, subscriptionId } = await heldOwner(chain, db, { usdc: 10_000n })
    await meterClaims(db, orgId, 3)
    const nonce = await operatorNonce(chain)
    const report = await settleOrg(db, chain, orgId)
    expect(report).toMatchObject({ booked: 0, batches: 0, collected: 0, txHashes: [] })
    expect(await operatorNonce(chain)).toBe(nonce)
    expect(await hasCode(chain, wallet)).toBe(false)
    expect(await usdcBalance(chain, wallet)).toBe(10_000n)
    expect(await getBillingSummary(db, orgId)).toMatchObject({
      state: 'lapsed',
      stateReason: 'balance_short',
      accrued: 21_000n,
      booked: 0n,
    })
    // Still held: a re-up (or a later run once active again) may send it.
    expect((await heldRow(db, subscriptionId))?.submitted_at).toBeNull()
    expect(await reconcileLedger(db, { orgId })).toEqual([])
  })

  test('(c) funded: settleOnce deploys the Safe through the validator, the authorization lands, the charge is collected from the Safe in the same run', async ({
    db,
    chain,
  }) => {
    const { wallet, orgId, subscriptionId } = await heldOwner(chain, db, {
      usdc: 1_000_000n,
      terms: true,
    })
    await meterClaims(db, orgId, 3)
    const payeeBefore = await usdcBalance(chain, chain.deployment.payee)
    const nonce = await operatorNonce(chain)
    const report = await settleOrg(db, chain, orgId)
    expect(report).toMatchObject({ booked: 1, batches: 1, collected: 1, failed: [] })
    // Two operator transactions: the held authorization (deploying the Safe), then the batch.
    expect(await operatorNonce(chain)).toBe(nonce + 2)
    expect(await hasCode(chain, wallet)).toBe(true)
    expect(await usdcBalance(chain, wallet)).toBe(1_000_000n - 21_000n)
    expect((await usdcBalance(chain, chain.deployment.payee)) - payeeBefore).toBe(21_000n)

    const held = await heldRow(db, subscriptionId)
    expect(held?.submitted_at).not.toBeNull()
    const receipt = await chain.deployer.getTransactionReceipt({
      hash: held!.tx_hash as `0x${string}`,
    })
    const [authorized] = parseEventLogs({
      abi: collectorAbi,
      logs: receipt.logs,
      eventName: 'Authorized',
    })
    expect(authorized?.args).toMatchObject({ owner: wallet, allowance: 2_000_000n, created: true })
    // The ledger's windows are the collector's: window 0 starts at the Authorized event.
    const summary = await getBillingSummary(db, orgId)
    expect(summary).toMatchObject({
      state: 'active',
      drawn: 21_000n,
      collected: 21_000n,
      remaining: 1_979_000n,
      monthlyLimit: 1_000_000n,
      windowIndex: 0,
    })
    expect(summary.windowStart?.getTime()).toBe(Number(authorized!.args.start) * 1000)
    const onChain = await readSubscription(chain, subscriptionId)
    expect(onChain).toMatchObject({ owner: wallet, status: 1, totalCollected: 21_000n })
    expect(await reconcileLedger(db, { orgId })).toEqual([])

    // Sent once: the next run finds nothing held and collects as for any owner.
    const again = makeMeter(db)
    await again.meter({ orgId, action: 'save_comment' })
    await again.close()
    expect(await settleOrg(db, chain, orgId)).toMatchObject({ collected: 1, failed: [] })
    expect(await usdcBalance(chain, wallet)).toBe(1_000_000n - 26_000n)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
  })

  test('(d) a held permit that expired before the charge was due: needs_reauth permit_unusable:expired, nothing sent; canceling it then only tombstones the id, deploying nothing', async ({
    db,
    chain,
  }) => {
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 8)
    const { owner, wallet, orgId, subscriptionId } = await heldOwner(chain, db, {
      usdc: 1_000_000n,
      deadline,
    })
    await meterClaims(db, orgId, 3)
    while (BigInt(Math.floor(Date.now() / 1000)) <= deadline)
      await new Promise((r) => setTimeout(r, 250))
    const nonce = await operatorNonce(chain)
    const report = await settleOrg(db, chain, orgId)
    expect(report).toMatchObject({ booked: 0, batches: 0, txHashes: [] })
    expect(await operatorNonce(chain)).toBe(nonce)
    expect(await hasCode(chain, wallet)).toBe(false)
    expect(await usdcBalance(chain, wallet)).toBe(1_000_000n)
    expect(await getBillingSummary(db, orgId)).toMatchObject({
      state: 'needs_reauth',
      stateReason: 'permit_unusable:expired',
      accrued: 21_000n,
    })
    expect(await heldRow(db, subscriptionId)).toMatchObject({
      submitted_at: null,
      dropped_reason: 'permit_unusable:expired',
    })
    // Canceling it now: the collector never had it, so it only records the id as canceled (one
    // transaction, the wallet not deployed); what is owed is written off.
    const canceled = await cancelSubscription(settlementContext(db, chain), {
      orgId,
      subscriptionId,
      ...(await signOwnerCancel(chain, owner.account, { subscriptionId })),
    })
    expect(canceled).toMatchObject({
      txHash: expect.stringMatching(/^0x/),
      writtenOff: [{ amount: 21_000n }],
    })
    expect(await operatorNonce(chain)).toBe(nonce + 1)
    expect(await hasCode(chain, wallet)).toBe(false)
    expect(await getBillingSummary(db, orgId)).toMatchObject({
      state: 'canceled',
      writtenOff: 21_000n,
    })
    expect(await reconcileLedger(db, { orgId })).toEqual([])
  })

  test('(e) cancel of a held subscription: the owner signature is checked first, the id tombstoned on-chain without deploying the wallet, what is owed written off; the held permit can never open it', async ({
    db,
    chain,
  }) => {
    const rig = await aaRig(chain)
    const { owner, wallet, orgId, subscriptionId } = await heldOwner(chain, db, {
      usdc: 1_000_000n,
    })
    await meterClaims(db, orgId, 3)
    const ctx = settlementContext(db, chain)
    const nonce = await operatorNonce(chain)
    // Someone else's key signing the cancel for this wallet is refused, and changes nothing.
    const stranger = await newSmartOwner(chain, rig, { kind: 'safe', deployed: false })
    const bad = await cancelSubscription(ctx, {
      orgId,
      subscriptionId,
      ...(await signOwnerCancel(chain, stranger.account, { subscriptionId })),
    }).catch((e) => e)
    expect(bad).toMatchObject({ code: 'SIGNATURE_REJECTED', details: { reason: 'rejected' } })
    expect(await getBillingSummary(db, orgId)).toMatchObject({ state: 'active' })

    const result = await cancelSubscription(ctx, {
      orgId,
      subscriptionId,
      ...(await signOwnerCancel(chain, owner.account, { subscriptionId })),
    })
    expect(result).toMatchObject({
      txHash: expect.stringMatching(/^0x/),
      collected: 0,
      writtenOff: [{ amount: 21_000n, reason: 'canceled: held authorization never sent' }],
    })
    expect(await operatorNonce(chain)).toBe(nonce + 1)
    expect(await hasCode(chain, wallet)).toBe(false)
    // The held 90-day permit and terms can never open the id now, days later or not.
    const held = (await getUnsubmittedHeld(db, { subscriptionId, includeDropped: true }))!
    await expect(
      authorizeOnCollector(chain, {
        subscriptionId,
        owner: wallet,
        permit: held.auth.permit,
        terms: held.auth.terms!,
      }),
    ).rejects.toThrow(/SubscriptionCanceled/)
    expect(await usdcBalance(chain, wallet)).toBe(1_000_000n)
    expect(await getBillingSummary(db, orgId)).toMatchObject({
      state: 'canceled',
      accrued: 0n,
      booked: 0n,
      drawn: 0n,
      writtenOff: 21_000n,
    })
    expect(await heldRow(db, subscriptionId)).toMatchObject({
      submitted_at: null,
      dropped_reason: 'canceled',
    })
    // Canceled is terminal: a later settlement run sends nothing for it.
    expect(await settleOrg(db, chain, orgId)).toMatchObject({ booked: 0, batches: 0 })
    expect(await operatorNonce(chain)).toBe(nonce + 1)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
  })
  test('(f) a held permit someone else submitted first (deploying the Safe through the validator) still lands; one whose nonce another permit used → needs_reauth permit_unusable:nonce_used', async ({
    db,
    chain,
  }) => {
    const rig = await aaRig(chain)
    const frontRun = (wallet: Address, auth: SignedAuthorization) =>
      frontRunPermit(chain, rig, { wallet, auth })
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    // The held permit itself, submitted by a stranger: "already used, allowance in place".
    const same = await heldOwner(chain, db, { usdc: 1_000_000n, terms: true })
    await frontRun(same.wallet, same.auth)
    expect(await hasCode(chain, same.wallet)).toBe(true)
    await meterClaims(db, same.orgId, 3)
    expect(await settleOnce(ctx, { orgIds: [same.orgId] })).toMatchObject({
      collected: 1,
      failed: [],
    })
    expect(await getBillingSummary(db, same.orgId)).toMatchObject({
      state: 'active',
      drawn: 21_000n,
    })
    expect((await heldRow(db, same.subscriptionId))?.tx_hash).toMatch(/^0x/)
    expect(await usdcBalance(chain, same.wallet)).toBe(1_000_000n - 21_000n)

    // Another permit (another cap) used the held one's nonce: nothing the collector would take.
    const other = await heldOwner(chain, db, { usdc: 1_000_000n })
    const elsewhere = await signOwnerAuthorization(chain, other.owner.account, {
      subscriptionId: other.subscriptionId,
      value: 5_000_000n,
    })
    expect(elsewhere.permit.nonce).toBe(other.auth.permit.nonce)
    await frontRun(other.wallet, elsewhere)
    await meterClaims(db, other.orgId, 3)
    const nonce = await operatorNonce(chain)
    expect(await settleOnce(ctx, { orgIds: [other.orgId] })).toMatchObject({
      booked: 0,
      batches: 0,
    })
    expect(await operatorNonce(chain)).toBe(nonce)
    expect(await getBillingSummary(db, other.orgId)).toMatchObject({
      state: 'needs_reauth',
      stateReason: 'permit_unusable:nonce_used',
    })
    expect(await reconcileLedger(db, { orgId: same.orgId })).toEqual([])
    expect(await reconcileLedger(db, { orgId: other.orgId })).toEqual([])
  })
  test("(g) held past its first ledger window: the usage is collected in the collector's window 0, and the monthly limit counts it there", async ({
    db,
    chain,
  }) => {
    const { wallet, orgId, subscriptionId } = await heldOwner(chain, db, {
      usdc: 1_000_000n,
      terms: true,
      limit: 50_000n,
    })
    // Metered 31 days after the hold (the owner's permit lives 90): the ledger's window 1.
    const later = await meterClaims(
      db,
      orgId,
      3,
      () => BigInt(Date.now() + 31 * 86_400_000) * 1000n,
    )
    expect(later.map((o) => o.windowIndex)).toEqual([1, 1, 1])
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    expect(await settleOnce(ctx, { orgIds: [orgId] })).toMatchObject({ collected: 1, failed: [] })
    expect(await hasCode(chain, wallet)).toBe(true)
    const [charge] = await db.$client<{ window_index: number; status: string }[]>`
      select window_index, status from charges where subscription_id = ${subscriptionId}`
    expect(charge).toEqual({ window_index: 0, status: 'collected' })
    // The collector's window 0 holds those 21,000 already: 4 more claims fit under 50,000, a 5th not.
    expect(await getBillingSummary(db, orgId)).toMatchObject({
      windowIndex: 0,
      spentThisWindow: 21_000n,
    })
    const meter = makeMeter(db)
    for (let i = 0; i < 4; i++) await meter.meter({ orgId, action: 'claim_issue' })
    const refused = await meter.meter({ orgId, action: 'claim_issue' }).catch((e) => e)
    expect(refused.code).toBe('SPEND_CAP_REACHED')
    await meter.close()
    expect(await settleOnce(ctx, { orgIds: [orgId] })).toMatchObject({ collected: 1, failed: [] })
    const onChain = await readSubscription(chain, subscriptionId)
    expect(onChain).toMatchObject({ totalCollected: 49_000n })
    expect(await usdcBalance(chain, wallet)).toBe(1_000_000n - 49_000n)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
  })
  test('(h) a worker that died after sending a held authorization: the next run finds its Authorized event, records it, and never sends it again', async ({
    db,
    chain,
  }) => {
    const { wallet, orgId, subscriptionId, auth } = await heldOwner(chain, db, { usdc: 1_000_000n })
    // The send a dead worker made: on-chain, the held row never marked.
    const sent = await sendAuthorization(
      { db, operator: chain.operator, deployment: chain.deployment },
      { orgId, subscriptionId, auth, state: 'active', cause: 'settlement' },
    )
    expect(await hasCode(chain, wallet)).toBe(true)
    expect((await heldRow(db, subscriptionId))?.submitted_at).toBeNull()
    await meterClaims(db, orgId, 3)
    const nonce = await operatorNonce(chain)
    expect(await settleOrg(db, chain, orgId)).toMatchObject({ booked: 1, collected: 1, failed: [] })
    // Only the batch went out.
    expect(await operatorNonce(chain)).toBe(nonce + 1)
    expect(await heldRow(db, subscriptionId)).toMatchObject({ tx_hash: sent.txHash })
    expect(await usdcBalance(chain, wallet)).toBe(1_000_000n - 21_000n)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
  })
  test("(i) the owner deploys the wallet themselves while held: their next signature is sent at once, the held one dropped (superseded), its usage collected in the collector's window 0", async ({
    db,
    chain,
  }) => {
    const rig = await aaRig(chain)
    const { owner, wallet, orgId, subscriptionId } = await heldOwner(chain, db, {
      usdc: 1_000_000n,
      terms: true,
      limit: 50_000n,
    })
    await meterClaims(db, orgId, 3)
    await deploySmartAccount(rig.relayer, { account: owner.account })
    const again = await signOwnerAuthorization(chain, owner.account, {
      subscriptionId,
      value: 2_000_000n,
      terms: { limit: 50_000n, nonce: 1 },
    })
    const sent = await authorizeOwner(
      { db, operator: chain.operator, deployment: chain.deployment },
      { orgId, subscriptionId, ...again },
    )
    expect(sent).toMatchObject({ held: false, txHash: expect.stringMatching(/^0x/) })
    expect(await heldRow(db, subscriptionId)).toMatchObject({
      submitted_at: null,
      dropped_reason: 'superseded',
    })
    expect(await getBillingSummary(db, orgId)).toMatchObject({
      state: 'active',
      windowIndex: 0,
      spentThisWindow: 21_000n,
    })
    expect(await settleOrg(db, chain, orgId)).toMatchObject({ collected: 1, failed: [] })
    expect(await usdcBalance(chain, wallet)).toBe(1_000_000n - 21_000n)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
  })
  test('(j) two workers settling at once: the held authorization is sent once, the charge collected once', async ({
    db,
    chain,
  }) => {
    const { wallet, orgId, subscriptionId } = await heldOwner(chain, db, { usdc: 1_000_000n })
    await meterClaims(db, orgId, 3)
    const nonce = await operatorNonce(chain)
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const reports = await Promise.all([
      settleOnce(ctx, { orgIds: [orgId] }),
      settleOnce(ctx, { orgIds: [orgId] }),
    ])
    expect(reports.reduce((n, r) => n + r.collected, 0)).toBe(1)
    expect(reports.reduce((n, r) => n + r.booked, 0)).toBe(1)
    expect(await operatorNonce(chain)).toBe(nonce + 2)
    const sent = await db.$client<{ n: bigint }[]>`
      select count(*)::int8 as n from operator_txs where purpose = ${`authorize:${subscriptionId}`}`
    expect(sent[0]?.n).toBe(1n)
    expect(await usdcBalance(chain, wallet)).toBe(1_000_000n - 21_000n)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
  })
})
