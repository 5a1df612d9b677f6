import { describe, expect, test } from '../fixtures.js'
import { activeOrg, makeMeter } from '../ledger/helpers.js'
import { tollgate } from './run.js'

describe('tollgate plan', { timeout: 180_000 }, () => {
  test('set and show; a bad amount exits non-zero and changes nothing', async ({
    db,
    databaseUrl,
  }) => {
    const { orgId } = await activeOrg(db, { allowance: 10_000_000n })
    const env = { DATABASE_URL: databaseUrl }
    const bad = await tollgate(['plan', 'set', '--org', orgId, '--usd', 'one'], env)
    expect(bad.code).not.toBe(0)
    const none = await tollgate(['plan', 'show', '--org', orgId], env)
    expect(none.stdout).toContain('no plan')
    const set = await tollgate(['plan', 'set', '--org', orgId, '--usd', '1', '--json'], env)
    expect(set.code, set.stderr).toBe(0)
    expect(JSON.parse(set.stdout)).toMatchObject({
      included_monthly_micros: '1000000',
      used_micros: '0',
      remaining_micros: '1000000',
    })
    const meter = makeMeter(db)
    await meter.meter({ orgId, action: 'claim_issue' })
    await meter.close()
    const show = await tollgate(['plan', 'show', '--org', orgId], env)
    expect(show.stdout).toMatch(
      /included this month \$0\.007 of \$1\.00 used, \$0\.993 left, renews /,
    )
    const off = await tollgate(['plan', 'set', '--org', orgId, '--none'], env)
    expect(off.stdout).toContain('no plan')
  })

  test('units of actions: set with --actions, shown per action; an unknown action exits non-zero and changes nothing', async ({
    db,
    databaseUrl,
  }) => {
    const { orgId } = await activeOrg(db, { allowance: 10_000_000n })
    const env = { DATABASE_URL: databaseUrl }
    for (const actions of ['no_such_action=5', 'save_comment', 'save_comment=-1']) {
      const bad = await tollgate(['plan', 'set', '--org', orgId, '--actions', actions], env)
      expect(bad.code, actions).not.toBe(0)
    }
    expect((await tollgate(['plan', 'show', '--org', orgId], env)).stdout).toContain('no plan')
    const set = await tollgate(
      ['plan', 'set', '--org', orgId, '--actions', 'save_comment=3,claim_issue=1', '--json'],
      env,
    )
    expect(set.code, set.stderr).toBe(0)
    expect(JSON.parse(set.stdout)).toMatchObject({
      included_monthly_micros: null,
      included_actions: {
        claim_issue: { included: 1, used: 0, remaining: 1 },
        save_comment: { included: 3, used: 0, remaining: 3 },
      },
    })
    const meter = makeMeter(db)
    await meter.meter({ orgId, action: 'save_comment', quantity: 2 })
    await meter.close()
    const show = await tollgate(['plan', 'show', '--org', orgId], env)
    expect(show.stdout).toMatch(/save_comment included this month 2 of 3 used, 1 left, renews /)
    expect(show.stdout).toMatch(/claim_issue included this month 0 of 1 used, 1 left, renews /)
  })
})
