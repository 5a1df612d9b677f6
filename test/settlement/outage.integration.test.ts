import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestClient, http, publicActions, walletActions } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { freePort, startAnvil } from '../../src/chain/anvil.js'
import { createSigner } from '../../src/chain/clients.js'
import { deployContracts } from '../../src/chain/deployContracts.js'
import { anvilKeys } from '../../src/config/index.js'
import { getBillingSummary } from '../../src/ledger/index.js'
import { indexChain, listPayments } from '../../src/settlement/indexChain.js'
import { reconcileWithChain } from '../../src/settlement/reconcileWithChain.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, type TestChain, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { authorizedOrg, settlementContext } from './helpers.js'

describe('RPC outage', () => {
  test('the node goes away and comes back: nothing lost, doubled or phantom', async ({ db }) => {
    const port = await freePort()
    const stateFile = join(mkdtempSync(join(tmpdir(), 'tg-outage-')), 'state.json')
    let anvil = await startAnvil({ port, stateFile })
    const rpcUrl = anvil.rpcUrl
    const deployer = await createSigner(rpcUrl, anvilKeys[0], { nonceManager: true })
    const operator = await createSigner(rpcUrl, anvilKeys[1])
    const deployment = await deployContracts(deployer, {
      admin: deployer.account.address,
      operators: [operator.account.address],
      payee: privateKeyToAccount(anvilKeys[2]).address,
    })
    const chain = {
      anvil,
      rpcUrl,
      deployment,
      deployer,
      operator,
      testClient: createTestClient({ chain: foundry, mode: 'anvil', transport: http(rpcUrl) })
        .extend(publicActions)
        .extend(walletActions),
      signerFor: (k: `0x${string}`) => createSigner(rpcUrl, k, { nonceManager: true }),
    } as unknown as TestChain
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    const org = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
    await settleOnce(ctx, { orgIds: [org.orgId] })
    await indexChain(ctx)
    await meter.meter({ orgId: org.orgId, action: 'save_comment' })

    await anvil.stop() // the RPC is gone (state kept on disk)
    await expect(settleOnce(ctx, { orgIds: [org.orgId] })).rejects.toThrow()
    await expect(indexChain(ctx)).rejects.toThrow()
    // Nothing moved while the chain was unreachable.
    expect(await getBillingSummary(db, org.orgId)).toMatchObject({
      state: 'active',
      accrued: 5_000n,
      booked: 0n,
      drawn: 7_000n,
    })

    anvil = await startAnvil({ port, stateFile }) // back, same chain
    const report = await settleOnce(ctx, { orgIds: [org.orgId], recoverOlderThanSeconds: 0 })
    expect(report.collected).toBe(1)
    await indexChain(ctx)
    const payments = await listPayments(db, { subscriptionId: org.subscriptionId })
    expect(payments.map((p) => [p.seq, p.amount])).toEqual([
      [2, 5_000n],
      [1, 7_000n],
    ])
    expect(await getBillingSummary(db, org.orgId)).toMatchObject({
      accrued: 0n,
      booked: 0n,
      drawn: 12_000n,
    })
    expect(await reconcileWithChain(ctx, { orgId: org.orgId })).toEqual([])
    await meter.close()
    await anvil.stop()
  }, 120_000)
})
