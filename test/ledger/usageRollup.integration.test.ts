import type { Db } from '../../src/db/client.js'
import { bookCharges, commitUsage, expireReservations, voidUsage } from '../../src/ledger/index.js'
import { readChargeLines } from '../../src/ledger/statements.js'
import { readUsageRollup } from '../../src/ledger/usageRollup.js'
import { describe, expect, test } from '../fixtures.js'
import { activeOrg, makeMeter } from './helpers.js'

/** The rollup as raw usage would give it: what the triggers must keep equal. */
async function scanned(db: Db) {
  return await db.$client`
    select org_id, to_char((created_at at time zone 'UTC')::date, 'YYYY-MM-DD') as day, action,
      count(*)::int8 as calls, sum(quantity)::int8 as quantity,
      sum(voucher_amount)::int8 as voucher, sum(billable_amount)::int8 as billable
    from usage where status in ('recorded', 'committed')
    group by 1, 2, 3 order by 1, 2, 3`
}
async function rolledUp(db: Db) {
  return await db.$client`
    select org_id, to_char(day, 'YYYY-MM-DD') as day, action, sum(calls)::int8 as calls,
      sum(quantity)::int8 as quantity, sum(voucher_amount)::int8 as voucher,
      sum(billable_amount)::int8 as billable
    from usage_daily where calls <> 0 or quantity <> 0 or voucher_amount <> 0 or billable_amount <> 0
    group by 1, 2, 3 order by 1, 2, 3`
}

describe('the usage rollup (usage_daily)', () => {
  test('kept equal to raw usage through metering, batches, commit, void, expiry and booking', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    const a = await activeOrg(db, { credit: 10_000n, allowance: 10_000_000n })
    const b = await activeOrg(db, { allowance: 10_000_000n })
    // Concurrent calls land in shared batches (one insert statement for several orgs).
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        meter.meter({
          orgId: i % 2 ? a.orgId : b.orgId,
          action: i % 3 ? 'claim_issue' : 'save_comment',
        }),
      ),
    )
    expect(await rolledUp(db)).toEqual(await scanned(db))
    // A reservation counts only once committed, for what was committed.
    const held = await meter.reserve({ orgId: a.orgId, action: 'next_batch', quantity: 5 })
    expect(await rolledUp(db)).toEqual(await scanned(db))
    await commitUsage(db, { orgId: a.orgId, usageId: held.usageId, quantity: 2 })
    expect(await rolledUp(db)).toEqual(await scanned(db))
    // A voided action leaves it; an expired reservation never entered it.
    const failed = await meter.meter({ orgId: a.orgId, action: 'add_relation' })
    await voidUsage(db, { orgId: a.orgId, usageId: failed.usageId })
    await meter.reserve({ orgId: b.orgId, action: 'checkpoint', ttlSeconds: 1 })
    await expireReservations(db, { now: BigInt(Date.now() + 3_600_000) * 1000n })
    expect(await rolledUp(db)).toEqual(await scanned(db))
    // Booking a charge changes no amount: the rollup is untouched.
    const before = await db.$client`select * from usage_daily order by 1, 2, 3, 4`
    const [charge] = await bookCharges(db, { orgId: b.orgId })
    expect(await db.$client`select * from usage_daily order by 1, 2, 3, 4`).toEqual(before)

    const today = new Date().toISOString().slice(0, 10)
    const r = await readUsageRollup(db, { orgId: a.orgId, from: today, to: today })
    expect(r.byDay.get(today)).toMatchObject({ calls: 21n })
    expect(r.byAction.get('next_batch')).toEqual({
      calls: 1n,
      quantity: 2n,
      voucher: 0n,
      billable: 14_000n,
    })
    expect(r.byAction.has('add_relation')).toBe(false)
    expect([...r.byKey.keys()]).toEqual([''])
    // A statement's lines: the charge's usage by action, adding up to the charge.
    const lines = (await readChargeLines(db, [charge!.id])).get(charge!.id)!
    expect(lines.reduce((s, l) => s + l.billable, 0n)).toBe(charge!.amount)
    expect(lines.map((l) => l.action)).toEqual(['claim_issue', 'save_comment'])
    await meter.close()
  })
})
