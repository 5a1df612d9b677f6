import type { Db } from '../../src/db/client.js'
import {
  detachMonthsBefore,
  ensureMonthPartitions,
  reconcileLedger,
  setPlan,
} from '../../src/ledger/index.js'
import { describe, expect, test } from '../fixtures.js'
import { activeOrg, into, makeMeter, monthStart, ym } from './helpers.js'

/** An active org with a $1 plan that drew `comments` × $0.005 of it in each month of `at`. */
async function plannedOrg(db: Db, at: bigint[], comments: number) {
  const org = await activeOrg(db, { allowance: 100_000_000n })
  await setPlan(db, { orgId: org.orgId, includedMonthlyMicros: 1_000_000n })
  let clock = 0n
  const meter = makeMeter(db, () => clock)
  for (const t of at) {
    clock = t
    for (let i = 0; i < comments; i++)
      await meter.meter({ orgId: org.orgId, action: 'save_comment' })
  }
  await meter.close()
  return org
}

/** Puts the org's included counter `by` micro-credits off what its month drew. */
const skew = (db: Db, orgId: string, by: bigint) =>
  db.$client`update billing_accounts set included_used = included_used + ${by.toString()}
    where org_id = ${orgId}`

const included = (found: { check: string }[]) =>
  found.filter((m) => m.check.startsWith('included '))

describe('reconcile proves the included counters across archived months (docs/plans.md)', () => {
  test('an old month archived raises no finding; a counter one micro-credit off is caught, whether its month is archived or current', async ({
    db,
  }) => {
    // Far back, so no other test's month is detached with it.
    const old = monthStart(9)
    await ensureMonthPartitions(db, { from: old, months: 1 })
    // Its counter's month is the old one (nothing since); the other's is the current month.
    const idle = await plannedOrg(db, [into(old, 4)], 3)
    const busy = await plannedOrg(db, [into(old, 5), BigInt(Date.now()) * 1000n], 2)
    for (const org of [idle, busy])
      expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])

    const detached = await detachMonthsBefore(db, { before: ym(monthStart(8)) })
    expect(detached.map((m) => m.month)).toContain(ym(old))
    // The old month's usage is gone from the table; what it drew of the plan still adds up.
    for (const org of [idle, busy])
      expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])

    for (const org of [idle, busy]) {
      await skew(db, org.orgId, 1n)
      expect(included(await reconcileLedger(db, { orgId: org.orgId }))).toEqual([
        expect.objectContaining({
          orgId: org.orgId,
          field: 'included_used',
          expected: org === idle ? '15000' : '10000',
          actual: org === idle ? '15001' : '10001',
        }),
      ])
      await skew(db, org.orgId, -1n)
    }

    // A counter whose month was lost (reset to none) matches its own rows — none — while this
    // month's usage drew from it: caught by the month, not the amount.
    await db.$client`update billing_accounts set included_window_start = null, included_used = 0
      where org_id = ${busy.orgId}`
    expect(included(await reconcileLedger(db, { orgId: busy.orgId }))).toEqual([
      expect.objectContaining({ check: 'included month = its latest usage', actual: '2' }),
    ])
  })
})
