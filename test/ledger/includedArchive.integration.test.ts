import type { Db } from '../../src/db/client.js'
import {
  detachMonthsBefore,
  ensureMonthPartitions,
  reconcileLedger,
  setPlan,
} from '../../src/ledger/index.js'
import { describe, expect, test } from '../fixtures.js'
import { activeOrg, config, into, makeMeter, monthStart, ym } from './helpers.js'

/** What the orgs' plan includes: $1 a month, or 10 `save_comment` a month. */
const PLANS = {
  micros: { includedMonthlyMicros: 1_000_000n },
  units: {
    includedMonthlyMicros: null,
    includedActions: { save_comment: 10 },
    rateCard: config.rateCard,
  },
} as const

/** An active org on `plan` that metered `comments` × `save_comment` in each month of `at`. */
async function plannedOrg(db: Db, plan: keyof typeof PLANS, at: bigint[], comments: number) {
  const org = await activeOrg(db, { allowance: 100_000_000n })
  await setPlan(db, { orgId: org.orgId, ...PLANS[plan] })
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

/**
 * Two orgs on `plan` that drew in the month `back` months ago, which is then detached: `idle`
 * (3 comments, nothing since: its counter's month is the old one) and `busy` (2 then, 2 this
 * month). Both reconcile before and after. Each test takes its own month, far back, so no
 * other test's month is detached with it.
 */
async function archivedOrgs(db: Db, plan: keyof typeof PLANS, back: number) {
  const old = monthStart(back)
  await ensureMonthPartitions(db, { from: old, months: 1 })
  const idle = await plannedOrg(db, plan, [into(old, 4)], 3)
  const busy = await plannedOrg(db, plan, [into(old, 5), BigInt(Date.now()) * 1000n], 2)
  for (const org of [idle, busy])
    expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
  const detached = await detachMonthsBefore(db, { before: ym(monthStart(back - 1)) })
  expect(detached.map((m) => m.month)).toContain(ym(old))
  // The old month's usage is gone from the table; what it drew of the plan still adds up.
  for (const org of [idle, busy])
    expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
  return { idle, busy }
}

/** Puts the org's included counter `by` micro-credits off what its month drew. */
const skew = (db: Db, orgId: string, by: bigint) =>
  db.$client`update billing_accounts set included_used = included_used + ${by.toString()}
    where org_id = ${orgId}`

/** Puts one action's count `by` units off: the live counter, or a month's archived total. */
const skewUnits = (db: Db, orgId: string, where: 'counter' | 'archive', by: number) =>
  where === 'counter'
    ? db.$client`update billing_accounts set included_units_used = jsonb_set(included_units_used,
        '{save_comment}', to_jsonb((included_units_used->>'save_comment')::int8 + ${by}))
      where org_id = ${orgId}`
    : db.$client`update archived_usage_totals set included_units = jsonb_set(included_units,
        '{save_comment}', to_jsonb((included_units->>'save_comment')::int8 + ${by}))
      where org_id = ${orgId} and status = 'recorded'`

const included = (found: { check: string }[]) =>
  found.filter((m) => m.check.startsWith('included '))

describe('reconcile proves the included counters across archived months (docs/plans.md)', () => {
  test('an old month archived raises no finding; a counter one micro-credit off is caught, whether its month is archived or current', async ({
    db,
  }) => {
    const { idle, busy } = await archivedOrgs(db, 'micros', 9)

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

  test('an archived month keeps its units per action: one unit off, in the archive or in the counter, is caught', async ({
    db,
  }) => {
    const { idle, busy } = await archivedOrgs(db, 'units', 10)
    const [kept] = await db.$client<{ included_units: Record<string, number> }[]>`
      select included_units from archived_usage_totals where org_id = ${idle.orgId}`
    expect(kept!.included_units).toEqual({ save_comment: 3 })

    const unitFinding = (expected: string, actual: string) => [
      expect.objectContaining({
        orgId: idle.orgId,
        check: 'included units used = its month’s usage (save_comment)',
        field: 'included_units_used.save_comment',
        expected,
        actual,
      }),
    ]
    await skewUnits(db, idle.orgId, 'archive', 1)
    expect(included(await reconcileLedger(db, { orgId: idle.orgId }))).toEqual(
      unitFinding('4', '3'),
    )
    await skewUnits(db, idle.orgId, 'archive', -1)
    await skewUnits(db, idle.orgId, 'counter', 1)
    expect(included(await reconcileLedger(db, { orgId: idle.orgId }))).toEqual(
      unitFinding('3', '4'),
    )
    await skewUnits(db, idle.orgId, 'counter', -1)
    // The busy org's counter is this month's: the archived month's units are not counted in it.
    await skewUnits(db, busy.orgId, 'archive', 1)
    expect(await reconcileLedger(db, { orgId: busy.orgId })).toEqual([])

    // A month archived before its units were kept, its table since dropped: not provable, so
    // no finding either way (docs/plans.md) — rather than a false one.
    await db.$client`update archived_usage_totals set included_units = null
      where org_id = ${idle.orgId}`
    await skewUnits(db, idle.orgId, 'counter', 1)
    expect(included(await reconcileLedger(db, { orgId: idle.orgId }))).toEqual([])
  })
})
