import { mintUsdc } from '../../src/chain/deployContracts.js'
import { parsePrepaidPackages } from '../../src/core/prepaidPackages.js'
import type { Db } from '../../src/db/client.js'
import {
  BillingInactiveError,
  creditPrepaid,
  getBillingSummary,
  listLedgerEntries,
  listTopUps,
  requestTopUp,
  setAutoTopUp,
  setBillingMode,
  type TopUpRefusedError,
} from '../../src/ledger/index.js'
import { checkChainTruth } from '../../src/settlement/checkChainTruth.js'
import { indexChain } from '../../src/settlement/indexChain.js'
import { reconcileWithChain } from '../../src/settlement/reconcileWithChain.js'
import { bookDueTopUps } from '../../src/settlement/settle/bookDueTopUps.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, type TestChain, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { collectedPulls } from '../support/collectedPulls.js'
import { crashChildRunner } from '../support/crashChildRunner.js'
import { authorizedOrg, settlementContext } from './helpers.js'

/** A prepaid org with an active permit and `prepaid` already on its balance. */
async function prepaidOrg(db: Db, chain: TestChain, p: { balance: bigint; prepaid: bigint }) {
  const org = await authorizedOrg(db, chain, { cap: 50_000_000n, balance: p.balance })
  await setBillingMode(db, { orgId: org.orgId, mode: 'prepaid' })
  if (p.prepaid > 0n)
    await db.$client.begin((tx) =>
      creditPrepaid(tx, {
        orgId: org.orgId,
        amount: p.prepaid,
        source: 'operator',
        reference: `start-${org.orgId}`,
      }),
    )
  return org
}

/** The org's credit lines to its prepaid balance, oldest first: kind and amount. */
const prepaidCredits = async (db: Db, orgId: string) =>
  (
    await db.$client<{ kind: string; amount: bigint }[]>`
      select kind, amount from ledger_entries
      where org_id = ${orgId} and kind like 'prepaid\\_%' order by seq`
  ).map((e) => [e.kind, BigInt(e.amount)])

const reconciled = (db: Db, chain: TestChain, orgId: string) =>
  reconcileWithChain({ db, client: chain.testClient, deployment: chain.deployment }, { orgId })

describe('prepaid top-ups pulled through the collector', () => {
  test('64 callers drain the balance across the threshold while 4 workers book and settle: exactly one top-up pull', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain)
    const meter = makeMeter(db)
    const org = await prepaidOrg(db, chain, { balance: 10_000_000n, prepaid: 500_000n })
    await setAutoTopUp(db, {
      orgId: org.orgId,
      threshold: 300_000n,
      amount: 2_000_000n,
      by: 'test',
    })
    let draining = true
    // Two workers settle whole passes; two only book due top-ups, as fast as they can — the
    // race a second top-up for the same dip would come from (nothing collected in between).
    const worker = async (pass: () => Promise<unknown>) => {
      let runs = 0
      while (draining || runs === 0) {
        await pass()
        runs++
      }
    }
    const settle = () => settleOnce(ctx, { orgIds: [org.orgId] })
    const book = () => bookDueTopUps(ctx, { orgIds: [org.orgId] })
    const workers = [settle, settle, book, book].map(worker)
    // 64 × $0.005 = $0.32 of a $0.50 balance: it crosses the $0.30 threshold once.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 64 }, () => meter.meter({ orgId: org.orgId, action: 'save_comment' })),
    )
    draining = false
    await Promise.all(workers)
    await settleOnce(ctx, { orgIds: [org.orgId] })
    await meter.close()
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(64)
    expect(await collectedPulls(chain, org.subscriptionId)).toEqual([
      expect.objectContaining({ seq: 1, amount: 2_000_000n }),
    ])
    const topUps = await listTopUps(db, { orgId: org.orgId })
    expect(topUps.map((t) => [t.status, t.amount, t.auto])).toEqual([
      ['collected', 2_000_000n, true],
    ])
    const s = await getBillingSummary(db, org.orgId)
    expect({ prepaid: s.prepaid, drawn: s.drawn }).toEqual({
      prepaid: 500_000n - 320_000n + 2_000_000n,
      drawn: 2_000_000n,
    })
    // Each step on the ledger, the credit once, right after the collection.
    const kinds = (await listLedgerEntries(db, { orgId: org.orgId }))
      .map((l) => l.kind)
      .filter((k) => k.startsWith('topup_') || k === 'prepaid_topup')
    expect(kinds.reverse()).toEqual(['topup_booked', 'topup_collected', 'prepaid_topup'])
    await indexChain(ctx)
    expect(await reconciled(db, chain, org.orgId)).toEqual([])
  })

  test('a top-up the owner cannot pay leaves the org no_credit with the reason shown; funded, the retry lands and paid work resumes', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain)
    const meter = makeMeter(db)
    // $1 in the wallet; the owner buys $2.
    const org = await prepaidOrg(db, chain, { balance: 1_000_000n, prepaid: 0n })
    const { topUp } = await requestTopUp(db, {
      orgId: org.orgId,
      amount: 2_000_000n,
      idempotencyKey: 'buy-2',
    })
    // The same key again: the same top-up; another one while it is open: refused.
    expect(
      await requestTopUp(db, { orgId: org.orgId, amount: 2_000_000n, idempotencyKey: 'buy-2' }),
    ).toEqual({ topUp, replayed: true })
    await expect(
      requestTopUp(db, { orgId: org.orgId, amount: 1_000_000n, idempotencyKey: 'buy-3' }),
    ).rejects.toMatchObject({ code: 'TOP_UP_REFUSED', details: { reason: 'in_flight' } })
    const report = await settleOnce(ctx, { orgIds: [org.orgId] })
    expect(report.failed).toEqual([{ chargeId: topUp.id, reason: 'balance' }])
    const failed = await getBillingSummary(db, org.orgId)
    expect({ state: failed.state, reason: failed.stateReason, prepaid: failed.prepaid }).toEqual({
      state: 'lapsed',
      reason: 'pull_failed:balance',
      prepaid: 0n,
    })
    expect(await listTopUps(db, { orgId: org.orgId })).toMatchObject([
      { id: topUp.id, status: 'failed', failureReason: 'balance' },
    ])
    const refused = await meter.meter({ orgId: org.orgId, action: 'save_comment' }).catch((e) => e)
    expect(refused).toBeInstanceOf(BillingInactiveError)
    expect(refused.details).toMatchObject({ reason: 'no_credit', billing_mode: 'prepaid' })
    // Nothing pulled while the wallet is short: the next pass sends nothing.
    expect(await settleOnce(ctx, { orgIds: [org.orgId] })).toMatchObject({ batches: 0 })
    // The owner funds the wallet: the lapse clears by itself, the same top-up (same seq) lands.
    await mintUsdc(chain.deployer, chain.deployment, { to: org.owner.address, amount: 5_000_000n })
    await checkChainTruth(ctx, { orgIds: [org.orgId] })
    expect(await settleOnce(ctx, { orgIds: [org.orgId] })).toMatchObject({ collected: 1 })
    expect(await collectedPulls(chain, org.subscriptionId)).toEqual([
      expect.objectContaining({ seq: 1, amount: 2_000_000n }),
    ])
    expect(await meter.meter({ orgId: org.orgId, action: 'save_comment' })).toMatchObject({
      prepaidMicros: '5000',
    })
    expect((await getBillingSummary(db, org.orgId)).prepaid).toBe(1_995_000n)
    await meter.close()
    await indexChain(ctx)
    expect(await reconciled(db, chain, org.orgId)).toEqual([])
  })

  test('refused before anything is booked: postpaid, no active permit, past the allowance', async ({
    db,
    chain,
  }) => {
    const org = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    const ask = (amount: bigint) =>
      requestTopUp(db, { orgId: org.orgId, amount, idempotencyKey: `k-${amount}` }).catch(
        (e: TopUpRefusedError) => e.details?.reason,
      )
    expect(await ask(100n)).toBe('not_prepaid')
    await setBillingMode(db, { orgId: org.orgId, mode: 'prepaid' })
    expect(await ask(1_000_001n)).toBe('exceeds_allowance')
    await db.$client`update subscriptions set state = 'needs_reauth' where id = ${org.subscriptionId}`
    expect(await ask(100n)).toBe('no_permit')
    expect(await listTopUps(db, { orgId: org.orgId })).toEqual([])
  })

  test('the worker SIGKILLed at every step of a top-up pull: never pulled twice, credited once, a package’s bonus once', async ({
    db,
    databaseUrl,
    chain,
  }) => {
    const runChild = crashChildRunner({ databaseUrl, chain, name: 'topup' })
    // $2 is a package ($0.50 bonus); $1 is not. Both orgs settle in the same dying pass.
    const packages = '2:0.5'
    const ctx = settlementContext(db, chain, { prepaidPackages: parsePrepaidPackages(packages) })
    for (const step of ['claimed', 'signed', 'sent', 'receipt'] as const) {
      const org = await prepaidOrg(db, chain, { balance: 5_000_000n, prepaid: 0n })
      const pkg = await prepaidOrg(db, chain, { balance: 5_000_000n, prepaid: 0n })
      // Booked by the dying worker itself: the auto top-up of an empty balance.
      await setAutoTopUp(db, { orgId: org.orgId, threshold: 1n, amount: 1_000_000n, by: 'test' })
      await setAutoTopUp(db, { orgId: pkg.orgId, threshold: 1n, amount: 2_000_000n, by: 'test' })
      const signal = await runChild({
        script: 'test/settlement/settleChild.ts',
        at: step,
        env: { CRASH_ORGS: `${org.orgId},${pkg.orgId}`, CRASH_PACKAGES: packages },
      })
      expect({ step, signal }).toEqual({ step, signal: 'SIGKILL' })
      // A fresh worker takes over twice: recovery, then a pass with nothing left to do.
      const orgIds = [org.orgId, pkg.orgId]
      await settleOnce(ctx, { orgIds, recoverOlderThanSeconds: 0 })
      await settleOnce(ctx, { orgIds, recoverOlderThanSeconds: 0 })
      for (const [o, price, bonus] of [
        [org, 1_000_000n, 0n],
        [pkg, 2_000_000n, 500_000n],
      ] as const) {
        expect({ step, pulls: await collectedPulls(chain, o.subscriptionId) }).toEqual({
          step,
          pulls: [expect.objectContaining({ seq: 1, amount: price })],
        })
        const s = await getBillingSummary(db, o.orgId)
        expect({ step, prepaid: s.prepaid, drawn: s.drawn }).toEqual({
          step,
          prepaid: price + bonus,
          drawn: price,
        })
        expect(await listTopUps(db, { orgId: o.orgId })).toMatchObject([{ auto: true, bonus }])
        // The price and the bonus, each its own line, each once.
        expect({ step, credits: await prepaidCredits(db, o.orgId) }).toEqual({
          step,
          credits:
            bonus === 0n
              ? [['prepaid_topup', price]]
              : [
                  ['prepaid_topup', price],
                  ['prepaid_bonus', bonus],
                ],
        })
        expect({ step, diff: await reconciled(db, chain, o.orgId) }).toEqual({ step, diff: [] })
      }
    }
  }, 600_000)
})
