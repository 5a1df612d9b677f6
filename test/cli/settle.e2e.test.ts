import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { authorizedOrg } from '../settlement/helpers.js'
import { tollgate } from './run.js'

// Each run of the command starts Node and loads the sources (~5 s apiece on a busy two-core
// machine): several of them take more than the default minute.
describe('tollgate settle and reconcile', { timeout: 180_000 }, () => {
  test('settle --once collects; reconcile passes, then fails on a tampered ledger row', async ({
    db,
    databaseUrl,
    chain,
  }) => {
    const file = join(tmpdir(), `tg-cli-deployment-${Date.now()}.json`)
    writeFileSync(file, JSON.stringify(chain.deployment))
    const env = {
      DATABASE_URL: databaseUrl,
      RPC_URL: chain.rpcUrl,
      DEPLOYMENT_FILE: file,
      OPERATOR_KEY: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
      BILLING_THRESHOLD_MICROS: '1',
      CONFIRMATIONS: '1',
    }
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
