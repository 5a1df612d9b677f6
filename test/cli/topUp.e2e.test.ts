import { listTopUps, readAutoTopUp, setBillingMode } from '../../src/ledger/index.js'
import { describe, expect, test } from '../fixtures.js'
import { newOrg } from '../ledger/helpers.js'
import { tollgate } from './run.js'

// Each run starts Node and loads the sources (~5 s apiece on a busy two-core machine).
describe('tollgate billing top-up and auto-top-up', { timeout: 180_000 }, () => {
  test('no permit: prints the manage link; with one: books the top-up once per key; auto top-up on and off', async ({
    db,
    databaseUrl,
  }) => {
    const env = { DATABASE_URL: databaseUrl, PREPAID_PACKAGES: '2.5:0.25,10:2' }
    const { orgId, subscriptionId } = await newOrg(db, 0n)
    await setBillingMode(db, { orgId, mode: 'prepaid' })
    const link = await tollgate(['billing', 'top-up', '2', '--org', orgId], env)
    expect(link.code, link.stderr).toBe(0)
    expect(link.stdout).toMatch(new RegExp(`/s/${subscriptionId}\\?t=\\S+`))
    expect(await listTopUps(db, { orgId })).toEqual([])
    await db.$client`update subscriptions set state = 'active', allowance = 5000000 where id = ${subscriptionId}`
    const buy = () =>
      tollgate(['billing', 'top-up', '$2.50', '--org', orgId, '--key', 'k-1', '--json'], env)
    const first = await buy()
    expect(first.code, first.stderr).toBe(0)
    expect(JSON.parse(first.stdout)).toMatchObject({
      amount: '2500000',
      bonus: '250000',
      status: 'booked',
      auto: false,
      replayed: false,
      packages: [
        { price: '2500000', bonus: '250000' },
        { price: '10000000', bonus: '2000000' },
      ],
    })
    expect(JSON.parse((await buy()).stdout)).toMatchObject({ replayed: true })
    const shown = await tollgate(['billing', 'top-up', '2.50', '--org', orgId, '--key', 'k-1'], env)
    expect(shown.stdout).toMatch(/bonus\s+\$0\.25 \(the package’s, never redeemable\)/)
    expect(shown.stdout).toMatch(/buy \$2\.50, get \$0\.25 free; buy \$10\.00, get \$2\.00 free/)
    expect(await listTopUps(db, { orgId })).toHaveLength(1)
    const on = await tollgate(
      ['billing', 'auto-top-up', '--org', orgId, '--below-usd', '1', '--usd', '5'],
      env,
    )
    expect(on.code, on.stderr).toBe(0)
    expect(await readAutoTopUp(db, { orgId })).toEqual({
      threshold: 1_000_000n,
      amount: 5_000_000n,
      updatedBy: 'cli',
    })
    expect((await tollgate(['billing', 'auto-top-up', '--org', orgId, '--off'], env)).code).toBe(0)
    expect(await readAutoTopUp(db, { orgId })).toBe(null)
  })
})
