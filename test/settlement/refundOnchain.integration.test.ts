import { parseEventLogs } from 'viem'
import { usdcAbi } from '../../src/chain/abis.js'
import { createSigner } from '../../src/chain/clients.js'
import { anvilKeys } from '../../src/config/index.js'
import {
  getBillingSummary,
  listCharges,
  listLedgerEntries,
  refund,
} from '../../src/ledger/index.js'
import { indexChain } from '../../src/settlement/indexChain.js'
import { listPaymentHistory } from '../../src/settlement/listPaymentHistory.js'
import { payRefundOnchain } from '../../src/settlement/payRefundOnchain.js'
import { reconcileWithChain } from '../../src/settlement/reconcileWithChain.js'
import { describe, expect, test } from '../fixtures.js'
import { canceledOrgWithCharge, settlementContext } from './helpers.js'

describe('refunds paid back on-chain', () => {
  test('after a cancel, the refund is a USDC transfer from the payee, once per key, matched by reconcile', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain)
    // The cancel collects what accrued (20,000) first: then nothing is left to net against.
    const org = await canceledOrgWithCharge(db, chain, 4)
    expect(org.canceled).toMatchObject({ collected: 1 })
    const [charge] = await listCharges(db, { orgId: org.orgId })
    const given = {
      chargeId: charge!.id,
      amount: 15_000n,
      reason: 'the jobs failed after the answer',
      actor: 'ops@test',
      idempotencyKey: 'onchain-1',
    }
    expect(await refund(db, given)).toMatchObject({
      status: 'owed_onchain',
      owedOnchainMicros: '15000',
    })
    const payeeCtx = {
      db,
      payee: await createSigner(chain.rpcUrl, anvilKeys[2]),
      deployment: chain.deployment,
      confirmations: 1,
    }
    const pay = () => payRefundOnchain(payeeCtx, { orgId: org.orgId, idempotencyKey: 'onchain-1' })
    // The payee holds what it pulled: 20,000 of it goes back as 15,000.
    const paid = await pay()
    expect(paid).toMatchObject({
      status: 'paid',
      amount: 15_000n,
      to: org.owner.address,
      replayed: false,
    })
    if (paid.status !== 'paid') throw new Error('not paid')
    const receipt = await chain.deployer.getTransactionReceipt({ hash: paid.txHash })
    const transfers = parseEventLogs({ abi: usdcAbi, logs: receipt.logs, eventName: 'Transfer' })
    expect(transfers.map((t) => [t.args.from, t.args.to, t.args.value])).toEqual([
      [chain.deployment.payee, org.owner.address, 15_000n],
    ])
    // Retried — the refund and its payout with the same key: applied once, no second transfer.
    expect(await refund(db, given)).toMatchObject({ replayed: true, owedOnchainMicros: '15000' })
    expect(await pay()).toEqual({ ...paid, replayed: true })
    const sent = await chain.deployer.getContractEvents({
      address: chain.deployment.usdc,
      abi: usdcAbi,
      eventName: 'Transfer',
      args: { from: chain.deployment.payee, to: org.owner.address },
      fromBlock: 0n,
    })
    expect(sent).toHaveLength(1)
    // The payment history shows it as money back to the owner, beside the pull it refunds.
    await indexChain(ctx)
    const history = await listPaymentHistory(db, { orgId: org.orgId })
    expect(history.map((h) => [h.kind, h.direction, h.status, h.amount])).toEqual([
      ['refund_payout', 'to_owner', 'paid', 15_000n],
      ['collector_pull', 'to_payee', 'collected', 20_000n],
    ])
    expect(history[0]).toMatchObject({
      event: 'Transfer',
      payer: chain.deployment.payee,
      recipient: org.owner.address,
      txHash: paid.txHash,
      blockNumber: receipt.blockNumber,
      subscriptionId: org.subscriptionId,
    })
    expect(history[0]!.at).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(
      (await listPaymentHistory(db, { orgId: org.orgId, subscriptionId: org.subscriptionId })).map(
        (h) => h.kind,
      ),
    ).toEqual(['refund_payout', 'collector_pull'])
    expect(
      await listPaymentHistory(db, { orgId: org.orgId, subscriptionId: 'f'.repeat(32) }),
    ).toEqual([])
    expect((await getBillingSummary(db, org.orgId)).collected).toBe(5_000n)
    const refunds = (await listLedgerEntries(db, { orgId: org.orgId })).filter(
      (l) => l.kind === 'refund',
    )
    expect(refunds.map((l) => [l.amount, l.memo])).toEqual([
      [15_000n, expect.stringContaining(paid.txHash)],
    ])
    const reconcile = () =>
      reconcileWithChain(
        { db, client: chain.testClient, deployment: chain.deployment },
        { orgId: org.orgId },
      )
    expect(await reconcile()).toEqual([])
    // Reconcile sees a payout whose amount differs from its transfer.
    await db.$client`update refunds set owed_onchain = 14000 where org_id = ${org.orgId}`
    expect(await reconcile()).toContainEqual(
      expect.objectContaining({ table: 'refunds', field: 'owed_onchain', expected: '15000' }),
    )
  })

  test('a key that is not the payee’s is refused before anything is recorded or sent', async ({
    db,
    chain,
  }) => {
    const org = await canceledOrgWithCharge(db, chain, 4)
    const [charge] = await listCharges(db, { orgId: org.orgId })
    await refund(db, {
      chargeId: charge!.id,
      amount: 15_000n,
      reason: 'the jobs failed after the answer',
      actor: 'ops@test',
      idempotencyKey: 'onchain-wrong-key',
    })
    const pay = async (key: `0x${string}`) =>
      payRefundOnchain(
        {
          db,
          payee: await createSigner(chain.rpcUrl, key),
          deployment: chain.deployment,
          confirmations: 1,
        },
        { orgId: org.orgId, idempotencyKey: 'onchain-wrong-key' },
      )
    await expect(pay(anvilKeys[1])).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
    const [row] = await db.$client<{ payout_status: string | null }[]>`
      select payout_status from refunds where org_id = ${org.orgId}`
    expect(row!.payout_status).toBeNull()
    const [txs] = await db.$client<{ n: bigint }[]>`
      select count(*) as n from operator_txs
      where purpose in (select 'refund:' || id from refunds where org_id = ${org.orgId})`
    expect(txs!.n).toBe(0n)
    // The payee's own key then pays it, once.
    expect(await pay(anvilKeys[2])).toMatchObject({ status: 'paid', amount: 15_000n })
  })
})
