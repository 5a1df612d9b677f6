import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { authorizedOrg, settlementContext } from '../settlement/helpers.js'
import { cliChainEnv } from '../support/cliChainEnv.js'
import { tollgate } from './run.js'

// Each run of the command starts Node and loads the sources (~5 s apiece on a busy machine).
describe('tollgate reconcile', { timeout: 180_000 }, () => {
  test('read-only, with no operator key: exit 0 on a clean ledger, exit 1 naming each tampered row', async ({
    db,
    databaseUrl,
    chain,
  }) => {
    const env = cliChainEnv(chain, databaseUrl, 'cli-reconcile', { OPERATOR_KEY: undefined })
    // One collected charge in each of three orgs: each gets its own tampered field.
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    const orgs = []
    for (let i = 0; i < 3; i++) {
      const org = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
      await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
      orgs.push(org)
    }
    await meter.close()
    await settleOnce(ctx, { orgIds: orgs.map((o) => o.orgId) })
    const clean = await tollgate(['reconcile', '--json'], env)
    expect(clean.stderr).toBe('')
    expect(clean.code).toBe(0)
    expect(JSON.parse(clean.stdout)).toEqual({ ok: true, mismatches: [] })

    const chargeOf = async (subscriptionId: string) =>
      (
        await db.$client<{ id: bigint }[]>`
          select id from charges where subscription_id = ${subscriptionId} and status = 'collected'`
      )[0]!.id.toString()
    const [a, b, c] = orgs as [(typeof orgs)[0], (typeof orgs)[0], (typeof orgs)[0]]
    const [ca, cb, cc] = [
      await chargeOf(a.subscriptionId),
      await chargeOf(b.subscriptionId),
      await chargeOf(c.subscriptionId),
    ]
    await db.$client`update charges set amount = amount + 1 where id = ${ca}`
    await db.$client`update charges set seq = 2 where id = ${cb}`
    await db.$client`update charges set window_index = 3 where id = ${cc}`
    const bad = await tollgate(['reconcile', '--json'], env)
    expect(bad.code).toBe(1)
    const { ok, mismatches } = JSON.parse(bad.stdout)
    expect(ok).toBe(false)
    expect(mismatches).toContainEqual(
      expect.objectContaining({
        orgId: a.orgId,
        table: 'charges',
        id: ca,
        field: 'amount',
        expected: '7000',
        actual: '7001',
      }),
    )
    expect(mismatches).toContainEqual(
      expect.objectContaining({
        orgId: b.orgId,
        table: 'charges',
        id: cb,
        field: 'seq',
        expected: '1',
        actual: '2',
      }),
    )
    expect(mismatches).toContainEqual(
      expect.objectContaining({
        orgId: c.orgId,
        table: 'charges',
        id: cc,
        field: 'window_index',
        expected: '0',
        actual: '3',
      }),
    )
    // Each org's differences are about its tampered row (and, for a seq, the subscription's
    // last collected seq it implies), nothing else.
    for (const [org, id] of [
      [a, ca],
      [b, cb],
      [c, cc],
    ] as const) {
      const own = mismatches.filter((m: { orgId: string }) => m.orgId === org.orgId)
      expect(own.length).toBeGreaterThan(0)
      for (const m of own)
        expect(
          [`charges ${id}`, `subscriptions ${org.subscriptionId} last_seq`],
          JSON.stringify(m),
        ).toContain(m.table === 'charges' ? `charges ${m.id}` : `${m.table} ${m.id} ${m.field}`)
    }

    // For people: the row named in a table.
    const text = await tollgate(['reconcile', '--org', a.orgId], env)
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(new RegExp(`^charges +${ca} +amount +7001 +7000 `, 'm'))
  })
})
