import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from '../fixtures.js'
import { activeOrg, makeMeter } from '../ledger/helpers.js'
import { tollgate } from './run.js'

// Each run of the command starts Node and loads the sources (~5 s apiece on a busy two-core
// machine): several of them take more than the default minute.
describe('tollgate CLI', { timeout: 180_000 }, () => {
  test('rates show and check: exit 0 for a good card, 1 for a card missing prices', async () => {
    const show = await tollgate(['rates', 'show', '--json'])
    expect(show.code).toBe(0)
    const card = JSON.parse(show.stdout)
    expect(card.version).toBe('2026-11-01')
    expect(card.prices.find((p: { action: string }) => p.action === 'heartbeat')).toEqual({
      action: 'heartbeat',
      micros: '100',
      usd: '$0.0001',
    })
    expect((await tollgate(['rates', 'check', 'src/ledger/rates.default.json'])).code).toBe(0)
    const bad = join(tmpdir(), `rates-${Date.now()}.json`)
    writeFileSync(
      bad,
      JSON.stringify({ version: 'v2', tiers: { a: 1 }, actions: { heartbeat: 'a' } }),
    )
    const check = await tollgate(['rates', 'check', bad, '--json'])
    expect(check.code).toBe(1)
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: false, version: 'v2' })
    writeFileSync(bad, '{"version": 1}')
    expect((await tollgate(['rates', 'check', bad])).code).toBe(1)
  })

  test('billing status and transactions read the ledger', async ({ db, databaseUrl }) => {
    const meter = makeMeter(db)
    const { orgId, subscriptionId } = await activeOrg(db, {
      credit: 1_000n,
      allowance: 100_000n,
      monthlyLimit: 50_000n,
    })
    await meter.meter({ orgId, action: 'claim_issue' })
    await meter.close()
    const env = { DATABASE_URL: databaseUrl }
    const status = await tollgate(['billing', 'status', '--org', orgId, '--json'], env)
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({
      subscriptionId,
      state: 'active',
      signupCredit: '0',
      accrued: '6000',
      cap: '100000',
      remaining: '94000',
      monthlyLimit: '50000',
      spentThisWindow: '6000',
    })
    const human = await tollgate(['billing', 'status', '--org', orgId], env)
    expect(human.stdout).toMatch(/accrued\s+\$0\.006/)
    const tx = await tollgate(
      [
        'billing',
        'transactions',
        '--org',
        orgId,
        '--type',
        'usage_billable,usage_voucher',
        '--json',
      ],
      env,
    )
    expect(tx.code).toBe(0)
    expect(
      JSON.parse(tx.stdout).map((l: { kind: string; amount: string }) => [l.kind, l.amount]),
    ).toEqual([
      ['usage_billable', '6000'],
      ['usage_voucher', '-1000'],
    ])
    const missing = await tollgate(
      ['billing', 'status', '--org', '00000000-0000-0000-0000-000000000000'],
      env,
    )
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/no billing account/)
  })
})
