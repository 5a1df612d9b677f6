import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { detectChainRollback } from '../../src/settlement/detectChainRollback.js'
import { indexChain } from '../../src/settlement/indexChain.js'
import { reconcileWithChain } from '../../src/settlement/reconcileWithChain.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { authorizedOrg, setTermsOnChain, settlementContext } from './helpers.js'

describe('reconcile, one row at a time', () => {
  test('a clean ledger matches; each tampered field of a collected charge is named', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    const org = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
    await settleOnce(ctx, { orgIds: [org.orgId] })
    await meter.meter({ orgId: org.orgId, action: 'save_comment' })
    await settleOnce(ctx, { orgIds: [org.orgId] })
    await indexChain(ctx)
    await meter.close()
    // Read-only: a client with no key at all.
    const reconcile = () =>
      reconcileWithChain(
        { db, client: chain.testClient, deployment: chain.deployment },
        { orgId: org.orgId },
      )
    expect(await reconcile()).toEqual([])

    const [charge] = await db.$client<{ id: bigint; tx_hash: string }[]>`
      select id, tx_hash from charges where subscription_id = ${org.subscriptionId} and seq = 1 and status = 'collected'`
    const id = charge!.id.toString()
    // A real transaction on the chain that collected nothing: the authorization's.
    const [auth] = await db.$client<{ tx_hash: string }[]>`
      select tx_hash from payment_history where subscription_id = ${org.subscriptionId} and event = 'Authorized'`
    const stranger = privateKeyToAccount(generatePrivateKey()).address
    const row = { orgId: org.orgId, table: 'charges', id }
    const cases: [string, string, Record<string, string>][] = [
      [
        'amount + 1 micro-credit',
        'update charges set amount = amount + 1',
        { ...row, field: 'amount', expected: '7000', actual: '7001' },
      ],
      ['seq', 'update charges set seq = 77', { ...row, field: 'seq', expected: '1', actual: '77' }],
      [
        'window',
        'update charges set window_index = window_index + 1',
        { ...row, field: 'window_index', expected: '0', actual: '1' },
      ],
      [
        'tx hash of another transaction',
        `update charges set tx_hash = '${auth!.tx_hash}'`,
        { ...row, field: 'tx_hash', actual: auth!.tx_hash },
      ],
      [
        'tx hash of no transaction',
        `update charges set tx_hash = '0x${'ab'.repeat(32)}'`,
        { ...row, field: 'tx_hash', expected: 'no such transaction' },
      ],
      [
        'status: failed, though collected',
        "update charges set status = 'failed', failure_reason = 'balance'",
        { ...row, field: 'status', expected: 'collected 7000', actual: 'failed' },
      ],
      [
        'owner',
        `update subscriptions set owner = '${stranger}'`,
        {
          orgId: org.orgId,
          table: 'subscriptions',
          id: org.subscriptionId,
          field: 'owner',
          actual: stranger,
          expected: org.owner.address,
        },
      ],
      ...(
        [
          [
            'allowance + 1 micro-credit',
            'allowance = allowance + 1',
            'allowance',
            '988000',
            '988001',
          ],
          ['limit', 'monthly_limit = 5', 'monthly_limit', 'none', '5'],
          ['period', 'window_seconds = window_seconds + 1', 'window_seconds', '2592000', '2592001'],
          ['status', "state = 'canceled'", 'state', 'active', 'canceled'],
          ['last seq ahead', 'last_seq = 3', 'last_seq', '2', '3'],
          ['last seq behind', 'last_seq = 1', 'last_seq', '2', '1'],
          ['terms nonce', 'terms_nonce = 9', 'terms_nonce', '1', '9'],
          ['window start', "window_start = window_start - interval '1 second'", 'window_start'],
        ] as const
      ).map(([name, set, field, expected, actual]): [string, string, Record<string, string>] => [
        `subscription ${name}`,
        `update subscriptions set ${set}`,
        {
          orgId: org.orgId,
          table: 'subscriptions',
          id: org.subscriptionId,
          field,
          ...(expected ? { expected, actual } : {}),
        },
      ]),
    ]
    for (const [name, update, named] of cases) {
      const table = update.includes('subscriptions') ? 'subscriptions' : 'charges'
      const key = table === 'charges' ? id : org.subscriptionId
      const [before] = await db.$client.unsafe(`select * from ${table} where id = $1`, [key])
      await db.$client.unsafe(`${update} where id = $1`, [key])
      expect(await reconcile(), name).toContainEqual(expect.objectContaining(named))
      const cols = Object.keys(before!)
      await db.$client.unsafe(
        `update ${table} set ${cols.map((c, i) => `${c} = $${i + 2}`).join(', ')} where id = $1`,
        [key, ...cols.map((c) => before![c])],
      )
      expect(await reconcile(), `${name} restored`).toEqual([])
    }
  })

  test('a lifetime cap the owner lowered on-chain is compared, and the gate follows it down', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    const org = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
    await settleOnce(ctx, { orgIds: [org.orgId] })
    const reconcile = () =>
      reconcileWithChain(
        { db, client: chain.testClient, deployment: chain.deployment },
        { orgId: org.orgId },
      )
    expect(await reconcile()).toEqual([])
    // The owner's own terms (same limit and period) cut the cap to $0.10: $0.093 left under it,
    // though the USDC allowance is still $0.993.
    await setTermsOnChain(chain, org, { limit: 0n, period: 2_592_000, cap: 100_000n })
    expect(await reconcile()).toContainEqual(
      expect.objectContaining({
        table: 'subscriptions',
        id: org.subscriptionId,
        field: 'allowance',
        expected: '93000',
        actual: '993000',
        check: expect.stringMatching(/cap 100000 less totalCollected 7000/),
      }),
    )
    // The next settlement pass reads the chain: the ledger's allowance follows the cap down.
    await meter.meter({ orgId: org.orgId, action: 'save_comment' })
    await meter.close()
    await settleOnce(ctx, { orgIds: [org.orgId] })
    expect(await reconcile()).toEqual([])
    const [sub] = await db.$client<{ allowance: bigint }[]>`
      select allowance from subscriptions where id = ${org.subscriptionId}`
    expect(sub!.allowance).toBe(88_000n)
  })

  test('a chain gone back behind the ledger is said, not papered over', async ({ db, chain }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    const org = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
    await meter.close()
    const snapshot = await chain.testClient.snapshot()
    await settleOnce(ctx, { orgIds: [org.orgId] })
    await indexChain(ctx)
    expect(await detectChainRollback({ db, client: chain.testClient, ...chain })).toBeUndefined()
    // The chain restored from before the collection (a dev chain's older state, a deep reorg).
    await chain.testClient.revert({ id: snapshot })
    const rollback = await detectChainRollback({ db, client: chain.testClient, ...chain })
    expect(rollback?.message).toMatch(
      /^The chain is behind the ledger: the ledger indexed chain 31337 up to block \d+, but the chain's head is block \d+/,
    )
    const found = await reconcileWithChain(
      { db, client: chain.testClient, deployment: chain.deployment },
      { orgId: org.orgId },
    )
    expect(found).toContainEqual(
      expect.objectContaining({ table: 'chain_cursors', field: 'block_hash', chainBehind: true }),
    )
    const [charge] = await db.$client<{ id: bigint }[]>`
      select id from charges where subscription_id = ${org.subscriptionId}`
    expect(found).toContainEqual(
      expect.objectContaining({
        table: 'charges',
        id: charge!.id.toString(),
        field: 'tx_hash',
        expected: 'no such transaction',
        chainBehind: true,
      }),
    )
    expect(found).toContainEqual(
      expect.objectContaining({
        table: 'subscriptions',
        id: org.subscriptionId,
        field: 'last_seq',
        expected: '0',
        actual: '1',
      }),
    )
    // The indexer meets it too, and says so before it re-reads.
    const report = await indexChain(ctx)
    expect(report.chainBehind).toMatch(/^The chain is behind the ledger/)
    // Its cursor re-read, the latest collection still tells.
    expect(
      (await detectChainRollback({ db, client: chain.testClient, ...chain }))?.message,
    ).toMatch(
      /^The chain is behind the ledger: charge \d+ was collected in 0x[0-9a-f]{64}, which chain 31337 does not have/,
    )
  })
})
