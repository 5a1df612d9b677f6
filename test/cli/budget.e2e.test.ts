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

  test('a malformed org, key or time is VALIDATION_FAILED in one line, and changes nothing', async ({
    db,
    databaseUrl,
  }) => {
    const { orgId } = await activeOrg(db, { allowance: 10_000_000n })
    const env = { DATABASE_URL: databaseUrl }
    const set = ['budget', 'set', '--period', 'day', '--usd', '1']
    const cases: [string[], string][] = [
      [[...set, '--org', 'nope'], '"nope" is not an id (a UUID)'],
      [[...set, '--org', orgId, '--key', 'k1'], '"k1" is not an id (a UUID)'],
      [
        [...set, '--org', orgId, '--override-usd', '5', '--until', 'soon'],
        'an override’s end is not a time',
      ],
      [['budget', 'show', '--org', `${orgId}x`], `"${orgId}x" is not an id (a UUID)`],
      [['budget', 'clear', '--org', orgId, '--period', 'day', '--key', '1'], '"1" is not an id'],
      [['billing', 'mode', 'prepaid', '--org', 'nope'], '"nope" is not an id (a UUID)'],
      [['reconcile', '--org', 'nope'], '"nope" is not an id (a UUID)'],
    ]
    for (const [args, said] of cases) {
      const out = await tollgate(args, env)
      expect(out.code, args.join(' ')).toBe(1)
      expect(out.stderr, args.join(' ')).toMatch(/^VALIDATION_FAILED: [^\n]*\n$/)
      expect(out.stderr).toContain(said)
    }
    // A refusal whose message already starts with its code says the code once.
    const refused = await tollgate(['billing', 'top-up', '5', '--org', orgId], env)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/^TOP_UP_REFUSED: the org is postpaid[^\n]*\n$/)
    const [n] = await db.$client<{ n: bigint }[]>`
      select count(*) as n from budgets where org_id = ${orgId}`
    expect(n!.n).toBe(0n)
    const [mode] = await db.$client<{ billing_mode: string }[]>`
      select billing_mode from billing_accounts where org_id = ${orgId}`
    expect(mode!.billing_mode).toBe('postpaid')
  })
})
