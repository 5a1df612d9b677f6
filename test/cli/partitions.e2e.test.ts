import { bookCharges, ensureMonthPartitions, markChargeCollected } from '../../src/ledger/index.js'
import { describe, expect, test } from '../fixtures.js'
import { activeOrg, makeMeter } from '../ledger/helpers.js'
import { tollgate } from './run.js'

// Each run of the command starts Node and loads the sources (~5 s apiece on a busy machine).
describe('tollgate partitions', { timeout: 180_000 }, () => {
  test('ensure finds the months made; detach takes a settled month out and names its tables', async ({
    db,
    databaseUrl,
  }) => {
    const env = { DATABASE_URL: databaseUrl }
    const ensured = await tollgate(['partitions', 'ensure'], env)
    expect(ensured).toMatchObject({ code: 0, stdout: '0 partitions created\n' })
    const json = await tollgate(['partitions', 'ensure', '--json'], env)
    expect(JSON.parse(json.stdout)).toEqual({ created: 0 })

    const now = new Date()
    const old = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 4, 1))
    const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 3, 1))
    const [month, before] = [old.toISOString().slice(0, 7), next.toISOString().slice(0, 7)]
    const tag = `_y${month.slice(0, 4)}m${month.slice(5, 7)}`
    await ensureMonthPartitions(db, { from: old, months: 1 })
    const org = await activeOrg(db, { allowance: 100_000_000n })
    const meter = makeMeter(db, () => BigInt(old.getTime() + 86_400_000) * 1000n)
    await meter.meter({ orgId: org.orgId, action: 'save_comment' })
    await meter.close()
    const [charge] = await bookCharges(db, { orgId: org.orgId })
    await markChargeCollected(db, { chargeId: charge!.id, txHash: `0x${'cd'.repeat(32)}` })

    const detached = await tollgate(['partitions', 'detach', '--before', before], env)
    expect(detached.stderr).toBe('')
    expect(detached.code).toBe(0)
    expect(detached.stdout).toContain(
      `${month}           1            1  usage${tag} ledger_entries${tag}`,
    )
    expect(detached.stdout).toContain(`pg_dump -t usage${tag} -t ledger_entries${tag}`)
    const again = await tollgate(['partitions', 'detach', '--before', before, '--json'], env)
    expect(JSON.parse(again.stdout)).toEqual({ detached: [] })

    const bad = await tollgate(['partitions', 'detach', '--before', 'May'], env)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toBe('VALIDATION_FAILED: the month to detach before is YYYY-MM\n')
  })
})
