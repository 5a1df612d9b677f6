import type { Db } from '../../src/db/client.js'
import {
  bookCharges,
  detachMonthsBefore,
  ensureMonthPartitions,
  markChargeCollected,
  reconcileLedger,
  voidUsage,
} from '../../src/ledger/index.js'
import { describe, expect, test } from '../fixtures.js'
import { activeOrg, into, makeMeter, monthStart, ym } from './helpers.js'

const suffix = (d: Date) => `_y${ym(d).slice(0, 4)}m${ym(d).slice(5, 7)}`

async function isPartition(db: Db, table: string) {
  const [row] = await db.$client<{ partition: boolean | null }[]>`
    select (select relispartition from pg_class where relname = ${table}) as partition`
  return row!.partition
}

describe('tollgate partitions detach (detachMonthsBefore)', () => {
  test('a month is detached only once settled; its totals keep reconcile whole and its rollup stays', async ({
    db,
  }) => {
    const [m3, m2] = [monthStart(3), monthStart(2)]
    await ensureMonthPartitions(db, { from: m3, months: 2 })
    const org = await activeOrg(db, { allowance: 100_000_000n })
    let clock = into(m3, 9)
    const meter = makeMeter(db, () => clock)
    for (let i = 0; i < 3; i++) await meter.meter({ orgId: org.orgId, action: 'save_comment' })
    const held = await meter.reserve({ orgId: org.orgId, action: 'next_batch', quantity: 1 })
    clock = into(m2, 3)
    await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
    await meter.close()

    // Not settled: a reservation open and usage not booked; then a charge not collected.
    const refused = { code: 'MONTH_NOT_SETTLED', details: { month: ym(m3) } }
    await expect(detachMonthsBefore(db, { before: ym(m2) })).rejects.toMatchObject({
      ...refused,
      details: { month: ym(m3), reserved: '1', unbooked: '3', open_charges: '0' },
    })
    await voidUsage(db, { orgId: org.orgId, usageId: held.usageId })
    const [charge] = await bookCharges(db, { orgId: org.orgId })
    await expect(detachMonthsBefore(db, { before: ym(m2) })).rejects.toMatchObject({
      ...refused,
      details: { month: ym(m3), reserved: '0', unbooked: '0', open_charges: '1' },
    })
    expect(await isPartition(db, `usage${suffix(m3)}`)).toBe(true)
    await markChargeCollected(db, { chargeId: charge!.id, txHash: `0x${'ab'.repeat(32)}` })
    expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
    const rollup = await db.$client`
      select day::text, action, calls::text, billable_amount::text from usage_daily
      where org_id = ${org.orgId} order by day, action`

    // Settled: the month before m2 goes (m2 stays), both tables, as tables of their own.
    expect(await detachMonthsBefore(db, { before: ym(m2) })).toEqual([
      {
        month: ym(m3),
        tables: [`usage${suffix(m3)}`, `ledger_entries${suffix(m3)}`],
        usageRows: 4n,
        ledgerRows: 3n, // the three metered; the reservation wrote none (its void is this month)
      },
    ])
    expect(await isPartition(db, `usage${suffix(m3)}`)).toBe(false)
    expect(await isPartition(db, `ledger_entries${suffix(m3)}`)).toBe(false)
    expect(await isPartition(db, `usage${suffix(m2)}`)).toBe(true)
    const [left] = await db.$client<{ n: number }[]>`
      select count(*)::int as n from usage where org_id = ${org.orgId}`
    expect(left!.n).toBe(1)
    // What the month held is still counted: reconcile finds nothing, the rollup is unchanged.
    expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
    expect(
      await db.$client`
        select day::text, action, calls::text, billable_amount::text from usage_daily
        where org_id = ${org.orgId} order by day, action`,
    ).toEqual(rollup)
    // Nothing older is left to detach.
    expect(await detachMonthsBefore(db, { before: ym(m2) })).toEqual([])

    // Without the month's totals, reconcile would see money missing.
    await db.$client`delete from archived_usage_totals where org_id = ${org.orgId}`
    await db.$client`delete from archived_ledger_totals where org_id = ${org.orgId}`
    const missing = await reconcileLedger(db, { orgId: org.orgId })
    expect(missing.map((m) => m.check)).toContain('entry seq gap-free')
    expect(missing.map((m) => m.check)).toContain(
      'Σ billable usage = accrued + booked + collected + written off',
    )
  })

  test('the month is YYYY-MM and never the current one or later', async ({ db }) => {
    for (const before of ['2026-13', '2026-1', 'last month'])
      await expect(detachMonthsBefore(db, { before })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      })
    await expect(detachMonthsBefore(db, { before: ym(monthStart(-1)) })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { current: ym(monthStart(0)) },
    })
    // This month's partition is never a candidate: before = this month detaches older ones only.
    const older = await detachMonthsBefore(db, { before: ym(monthStart(0)) })
    expect(older.filter((m) => m.month >= ym(monthStart(0)))).toEqual([])
    expect(await isPartition(db, `usage${suffix(monthStart(0))}`)).toBe(true)
  })
})
