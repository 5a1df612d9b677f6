import { collectorAbi } from '../../src/chain/abis.js'
import { createSigner } from '../../src/chain/clients.js'
import { anvilKeys } from '../../src/config/index.js'
import { indexChain } from '../../src/settlement/indexChain.js'
import { reconcileWithChain } from '../../src/settlement/reconcileWithChain.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { authorizedOrg, settlementContext } from './helpers.js'

describe('several workers', () => {
  test('two workers with two operator keys settle 200 orgs; no charge is pulled twice', async ({
    db,
    chain,
  }) => {
    // A second operator, added by the collector's admin.
    const second = await createSigner(chain.rpcUrl, anvilKeys[2])
    await chain.deployer.waitForTransactionReceipt({
      hash: await chain.deployer.writeContract({
        address: chain.deployment.collector!,
        abi: collectorAbi,
        functionName: 'setOperator',
        args: [second.account.address, true],
      }),
    })
    const meter = makeMeter(db)
    const orgs = []
    for (let i = 0; i < 200; i++)
      orgs.push(await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 100_000n }))
    await Promise.all(
      orgs.map((o, i) =>
        meter.meter({ orgId: o.orgId, action: 'claim_issue', quantity: 1 + (i % 3) }),
      ),
    )
    const orgIds = orgs.map((o) => o.orgId)
    const a = settlementContext(db, chain, { thresholdMicros: 1n, batchSize: 25 })
    const b = settlementContext(db, chain, { thresholdMicros: 1n, batchSize: 25, operator: second })
    const [ra, rb] = await Promise.all([settleOnce(a, { orgIds }), settleOnce(b, { orgIds })])
    expect(ra.collected + rb.collected).toBe(200)
    expect(ra.batches).toBeGreaterThan(0)
    expect(rb.batches).toBeGreaterThan(0)
    expect([...ra.failed, ...rb.failed]).toEqual([])
    // Every subscription pulled exactly once, for exactly what it used.
    await indexChain(a)
    const counts = await db.$client<{ subscription_id: string; n: bigint; amount: bigint }[]>`
      select subscription_id, count(*)::int8 as n, sum(amount)::int8 as amount from payment_history
      where event = 'Collected' and subscription_id = any(${orgs.map((o) => o.subscriptionId)}) group by subscription_id`
    expect(counts).toHaveLength(200)
    expect(counts.every((c) => c.n === 1n)).toBe(true)
    const total = counts.reduce((s, c) => s + c.amount, 0n)
    expect(total).toBe(orgs.reduce((s, _, i) => s + 7_000n * BigInt(1 + (i % 3)), 0n))
    for (const o of orgs.slice(0, 20))
      expect(await reconcileWithChain(a, { orgId: o.orgId })).toEqual([])
    // Every org at once (one read of the transfers to the payee): none of these 200 differ.
    const ours = new Set<string>(orgs.map((o) => o.orgId))
    expect((await reconcileWithChain(a)).filter((m) => ours.has(m.orgId))).toEqual([])
    await meter.close()
  }, 180_000)
})
