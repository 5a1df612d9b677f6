import { describe, expect, test } from '../fixtures.js'
import { activeOrg, makeMeter } from '../ledger/helpers.js'
import { tollgate } from './run.js'

describe('tollgate budget', { timeout: 180_000 }, () => {
  test('set, show and clear; a bad amount exits non-zero and changes nothing', async ({
    db,
    databaseUrl,
  }) => {
    const { orgId } = await activeOrg(db, { allowance: 10_000_000n })
    const meter = makeMeter(db)
    await meter.meter({ orgId, action: 'claim_issue' })
    await meter.close()
    const env = { DATABASE_URL: databaseUrl }
    const bad = await tollgate(
      ['budget', 'set', '--org', orgId, '--period', 'day', '--usd', 'three'],
      env,
    )
    expect(bad.code).not.toBe(0)
    const set = await tollgate(
      ['budget', 'set', '--org', orgId, '--period', 'day', '--usd', '0.05', '--json'],
      env,
    )
    expect(set.code, set.stderr).toBe(0)
    expect(JSON.parse(set.stdout)).toEqual([
      expect.objectContaining({
        scope: 'org',
        period: 'day',
        limit_micros: '50000',
        spent_micros: '7000',
        remaining_micros: '43000',
      }),
    ])
    const show = await tollgate(['budget', 'show', '--org', orgId], env)
    expect(show.stdout).toMatch(/org\s+day\s+\$0\.05/)
    const clear = await tollgate(['budget', 'clear', '--org', orgId, '--period', 'day'], env)
    expect(clear.stdout).toContain('removed')
    expect((await tollgate(['budget', 'show', '--org', orgId], env)).stdout).toContain('no budgets')
  })
})
