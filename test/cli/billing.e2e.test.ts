import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getBillingSummary, listLedgerEntries, reconcileLedger } from '../../src/ledger/index.js'
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

  // Six runs of the command: more than the describe's three minutes on a loaded machine.
  test('billing adjust: an operator’s correction on the ledger, once per key, never below zero', {
    timeout: 300_000,
  }, async ({ db, databaseUrl }) => {
    const meter = makeMeter(db)
    const { orgId } = await activeOrg(db, { allowance: 100_000n })
    await meter.meter({ orgId, action: 'claim_issue' }) // 7,000 accrued
    await meter.close()
    const adjust = (...args: string[]) =>
      tollgate(['billing', 'adjust', '--org', orgId, '--actor', 'ops@alice', ...args], {
        DATABASE_URL: databaseUrl,
      })
    const ticket = ['--reason', 'ticket 42', '--key', 'adj-1', '--json']
    const credit = await adjust('--balance', 'accrued', '--credit', '0.0025', ...ticket)
    expect(credit.code).toBe(0)
    const first = JSON.parse(credit.stdout)
    expect(first).toMatchObject({
      balance: 'accrued',
      amountMicros: '-2500',
      afterMicros: '4500',
      replayed: false,
    })
    const retry = await adjust('--balance', 'accrued', '--credit', '0.0025', ...ticket)
    expect(JSON.parse(retry.stdout)).toEqual({ ...first, replayed: true })
    // Below zero, both amounts or neither, an unknown balance: refused, nothing written.
    for (const refused of [
      ['--balance', 'accrued', '--credit', '0.004501'],
      ['--balance', 'voucher', '--credit', '1', '--debit', '1'],
      ['--balance', 'prepaid', '--debit', '0.001'],
    ]) {
      const r = await adjust(...refused, '--reason', 'x', '--key', `bad-${refused.join('')}`)
      expect(r.code, refused.join(' ')).toBe(1)
      expect(r.stderr).toMatch(/^VALIDATION_FAILED: /)
    }
    const goodwill = await adjust(
      '--balance',
      'voucher',
      '--credit',
      '0.05',
      '--reason',
      'goodwill',
      '--key',
      'adj-2',
    )
    expect(goodwill.code).toBe(0)
    expect(goodwill.stdout).toMatch(/after\s+\$0\.05/)
    expect((await listLedgerEntries(db, { orgId })).slice(0, 2)).toMatchObject([
      { kind: 'adjustment_voucher', amount: 50_000n, memo: 'ops@alice: goodwill' },
      { kind: 'adjustment_accrued', amount: -2_500n, memo: 'ops@alice: ticket 42' },
    ])
    expect(await getBillingSummary(db, orgId)).toMatchObject({
      signupCredit: 50_000n,
      accrued: 4_500n,
    })
    expect(await reconcileLedger(db, { orgId })).toEqual([])
  })
})
