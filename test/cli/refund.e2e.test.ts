import { usdcAbi } from '../../src/chain/abis.js'
import { anvilKeys } from '../../src/config/index.js'
import { listCharges } from '../../src/ledger/index.js'
import { describe, expect, test } from '../fixtures.js'
import { canceledOrgWithCharge } from '../settlement/helpers.js'
import { cliChainEnv } from '../support/cliChainEnv.js'
import { usdcBalance } from '../support/usdcBalance.js'
import { tollgate } from './run.js'

// Each run of the command starts Node and loads the sources (~5 s apiece on a busy machine).
describe('tollgate refund --onchain', { timeout: 240_000 }, () => {
  test('a collected charge of a canceled subscription is paid back from the payee wallet, matched by reconcile, and never twice', async ({
    db,
    databaseUrl,
    chain,
  }) => {
    const env = cliChainEnv(chain, databaseUrl, 'cli-refund', {
      OPERATOR_KEY: undefined,
      PAYEE_KEY: anvilKeys[2],
    })
    // The owner cancels: what accrued ($0.02) is collected first, then nothing is left to net.
    const org = await canceledOrgWithCharge(db, chain, 4)
    expect(org.canceled).toMatchObject({ collected: 1 })
    const [charge] = await listCharges(db, { orgId: org.orgId })
    expect(charge).toMatchObject({ status: 'collected', amount: 20_000n })
    const sent = () =>
      chain.deployer.getContractEvents({
        address: chain.deployment.usdc,
        abi: usdcAbi,
        eventName: 'Transfer',
        args: { from: chain.deployment.payee, to: org.owner.address },
        fromBlock: 0n,
      })
    const ownerBalance = () => usdcBalance(chain, org.owner.address)
    const before = await ownerBalance()
    const args = [
      'refund',
      charge!.id,
      '--amount',
      '0.015',
      '--reason',
      'the jobs failed after the answer',
      '--key',
      'cli-onchain-1',
      '--onchain',
      '--json',
    ]

    const first = await tollgate(args, env)
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    const paid = JSON.parse(first.stdout)
    expect(paid).toMatchObject({
      status: 'owed_onchain',
      nettedMicros: '0',
      owedOnchainMicros: '15000',
      replayed: false,
      onchain: { status: 'paid', to: org.owner.address, replayed: false },
    })
    const transfers = await sent()
    expect(transfers.map((t) => [t.args.value, t.transactionHash])).toEqual([
      [15_000n, paid.onchain.txHash],
    ])
    expect((await ownerBalance()) - before).toBe(15_000n)

    const reconcile = await tollgate(['reconcile', '--json', '--org', org.orgId], env)
    expect(reconcile.stderr).toBe('')
    expect(JSON.parse(reconcile.stdout)).toEqual({ ok: true, mismatches: [] })
    expect(reconcile.code).toBe(0)

    // Run again with the same key: the first outcome, the payout found paid, no second transfer.
    const again = await tollgate(args, env)
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({
      refundId: paid.refundId,
      replayed: true,
      onchain: { status: 'paid', txHash: paid.onchain.txHash, replayed: true },
    })
    expect(await sent()).toHaveLength(1)
    expect((await ownerBalance()) - before).toBe(15_000n)

    // The owner's payment history shows it as money back to them.
    const history = await tollgate(['billing', 'history', '--org', org.orgId], env)
    expect(history.code).toBe(0)
    expect(history.stdout).toContain(`+$0.015 back to ${org.owner.address}`)
  })
})
