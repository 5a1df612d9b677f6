import { bookCharges, listCharges, markChargeFailed } from '../../src/ledger/index.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { authorizedOrg } from '../settlement/helpers.js'
import { cliChainEnv } from '../support/cliChainEnv.js'
import { tollgate } from './run.js'

// Each run of the command starts Node and loads the sources (~5 s apiece on a busy two-core
// machine): several of them take more than the default minute.
describe('tollgate settle and reconcile', { timeout: 180_000 }, () => {
  test('settle --once collects; reconcile passes, then fails on a tampered ledger row', async ({
    db,
    databaseUrl,
    chain,
  }) => {
    const env = cliChainEnv(chain, databaseUrl, 'cli-deployment', {
      OPERATOR_KEY: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
      BILLING_THRESHOLD_MICROS: '1',
    })
    const meter = makeMeter(db)
    const { orgId } = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    await meter.meter({ orgId, action: 'claim_issue' })
    await meter.close()
    const settle = await tollgate(['settle', '--once', '--org', orgId, '--json'], env)
    expect(settle.code).toBe(0)
    expect(JSON.parse(settle.stdout)).toMatchObject({
      booked: 1,
      batches: 1,
      collected: 1,
      failed: [],
    })
    const ok = await tollgate(['reconcile', '--org', orgId, '--json'], env)
    expect(ok.code).toBe(0)
    expect(JSON.parse(ok.stdout)).toEqual({ ok: true, mismatches: [] })
    await db.$client`update billing_accounts set collected = collected + 1 where org_id = ${orgId}`
    const bad = await tollgate(['reconcile', '--org', orgId, '--json'], env)
    expect(bad.code).toBe(1)
    expect(JSON.parse(bad.stdout).mismatches).toContainEqual(
      expect.objectContaining({
        orgId,
        check: 'collected = Σ collection entries',
        expected: '7000',
        actual: '7001',
      }),
    )
  })
})

describe('tollgate settle retire', { timeout: 180_000 }, () => {
  test('retires a charge that can never be collected on-chain, then writes it off; refuses one that is not next', async ({
    db,
    databaseUrl,
    chain,
  }) => {
    const env = cliChainEnv(chain, databaseUrl, 'cli-deployment', {
      OPERATOR_KEY: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
      BILLING_THRESHOLD_MICROS: '1',
    })
    const meter = makeMeter(db)
    const { orgId } = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
    await meter.meter({ orgId, action: 'claim_issue' })
    const [first] = await bookCharges(db, { orgId })
    await markChargeFailed(db, { chargeId: first!.id, reason: 'amount' })
    await meter.meter({ orgId, action: 'save_comment' })
    const [second] = await bookCharges(db, { orgId })
    await meter.close()
    const refused = await tollgate(
      ['settle', 'retire', '--charge', second!.id, '--reason', 'wrong one'],
      env,
    )
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/not next on-chain/)
    const retired = await tollgate(
      ['settle', 'retire', '--charge', first!.id, '--reason', 'lost off-chain', '--json'],
      env,
    )
    expect(retired.code).toBe(0)
    expect(JSON.parse(retired.stdout)).toMatchObject({
      chargeId: first!.id,
      seq: 1,
      amount: '7000',
    })
    expect((await listCharges(db, { orgId })).map((c) => [c.seq, c.status])).toEqual(
      expect.arrayContaining([
        [1, 'written_off'],
        [2, 'booked'],
      ]),
    )
    // A seq with no charge row: by subscription and seq (bad flags refused before anything).
    const both = await tollgate(
      ['settle', 'retire', '--charge', '1', '--seq', '3', '--reason', 'x'],
      env,
    )
    expect(both.code).not.toBe(0)
    expect(both.stderr).toMatch(/--subscription <id> with --seq/)
    await db.$client`update subscriptions set last_seq = last_seq + 1 where org_id = ${orgId}`
    const [sub] = await db.$client<{ id: string; last_seq: number }[]>`
      select id, last_seq from subscriptions where org_id = ${orgId}`
    const bySeq = await tollgate(
      ['settle', 'retire', '--subscription', sub!.id, '--seq', '2', '--reason', 'x', '--json'],
      env,
    )
    expect(bySeq.code).not.toBe(0)
    expect(bySeq.stderr).toMatch(/is charge \d+: retire the charge/)
  })
})
