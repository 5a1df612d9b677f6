import { closeDb, createDb } from '../../src/db/client.js'
import {
  commitUsage,
  createMeter,
  reconcileLedger,
  setBillingMode,
  setPlan,
  showPlan,
  voidUsage,
} from '../../src/ledger/index.js'
import { describe, expect, test } from '../fixtures.js'
import { activeOrg, config, entriesOf, makeMeter, newOrg } from './helpers.js'

/** 2026-12-31T23:59:59.999999Z and the next microsecond, 2027-01-01T00:00:00Z. */
const JAN = BigInt(Date.UTC(2027, 0, 1)) * 1000n
const DEC_LAST = JAN - 1n
const { rateCard } = config

/** Units of `action` the org's plan drew this month (at `now`). */
const unitsUsed = async (
  db: Parameters<typeof showPlan>[0],
  orgId: string,
  action: string,
  now?: bigint,
) => (await showPlan(db, { orgId, now })).units.find((u) => u.action === action)?.used

/** A prepaid org with no credit at all: only its plan's units can pay. */
async function unitsOnlyOrg(db: Parameters<typeof showPlan>[0], units: number) {
  const { orgId } = await newOrg(db, 0n)
  await setBillingMode(db, { orgId, mode: 'prepaid' })
  await setPlan(db, {
    orgId,
    includedMonthlyMicros: null,
    includedActions: { save_comment: units },
    rateCard,
  })
  return orgId
}

describe('included units of an action (plans)', () => {
  test('64 concurrent callers across the units’ edge draw exactly the units, no more', async ({
    db,
    databaseUrl,
  }) => {
    const orgId = await unitsOnlyOrg(db, 100)
    const dbs = Array.from({ length: 4 }, () => createDb({ url: databaseUrl, max: 3 }))
    const meters = dbs.map((d) =>
      createMeter(d, { rateCard: config.rateCard, product: config.product }),
    )
    let units = 0
    let refused = 0
    await Promise.all(
      Array.from({ length: 64 }, async (_, caller) => {
        for (;;) {
          try {
            const o = await meters[caller % 4]!.meter({ orgId, action: 'save_comment' })
            expect(o).toMatchObject({ includedUnits: 1, priceMicros: '0', billableMicros: '0' })
            units += o.includedUnits ?? 0
          } catch (e) {
            expect((e as { code: string }).code).toBe('BILLING_INACTIVE')
            refused++
            return
          }
        }
      }),
    )
    for (const m of meters) await m.close()
    for (const d of dbs) await closeDb(d)
    expect(units).toBe(100)
    expect(refused).toBe(64)
    expect(await unitsUsed(db, orgId, 'save_comment')).toBe(100)
    expect(await entriesOf(db, orgId, 'usage_units')).toBe(-100n * 5_000n)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
  })

  test('renew at the UTC month’s boundary: the last microsecond of one, the first of the next', async ({
    db,
  }) => {
    let clock = DEC_LAST - 10n
    const orgId = await unitsOnlyOrg(db, 2)
    const meter = makeMeter(db, () => clock)
    await meter.meter({ orgId, action: 'save_comment' })
    await meter.meter({ orgId, action: 'save_comment' })
    clock = DEC_LAST
    await expect(meter.meter({ orgId, action: 'save_comment' })).rejects.toMatchObject({
      code: 'BILLING_INACTIVE',
      details: { reason: 'no_credit' },
    })
    clock = JAN
    expect(await meter.meter({ orgId, action: 'save_comment' })).toMatchObject({
      includedUnits: 1,
      priceMicros: '0',
    })
    await meter.close()
    expect(await showPlan(db, { orgId, now: DEC_LAST })).toMatchObject({
      units: [{ action: 'save_comment', included: 2, used: 0, remaining: 2 }],
    })
    expect(await showPlan(db, { orgId, now: JAN })).toMatchObject({
      units: [{ action: 'save_comment', included: 2, used: 1, remaining: 1 }],
      renewsAt: new Date(Date.UTC(2027, 1, 1)),
    })
    expect(await reconcileLedger(db, { orgId })).toEqual([])
  })

  test('a quantity past the units left is split: the covered units cost nothing, the rest is priced as usual', async ({
    db,
  }) => {
    // 5,000 a comment; 2 units of it; 3,000 of voucher: 5 comments are 2 units, 3,000 voucher, 12,000 billable.
    const { orgId } = await activeOrg(db, { allowance: 100_000_000n, credit: 3_000n })
    await setPlan(db, {
      orgId,
      includedMonthlyMicros: null,
      includedActions: { save_comment: 2 },
      rateCard,
    })
    const meter = makeMeter(db)
    // Another action's price is never paid by these units.
    const claim = await meter.meter({ orgId, action: 'claim_issue' })
    expect(claim).toMatchObject({ voucherMicros: '3000', billableMicros: '4000' })
    expect(claim.includedUnits ?? 0).toBe(0)
    await setPlan(db, {
      orgId,
      includedMonthlyMicros: 1_000n,
      includedActions: { save_comment: 2 },
      rateCard,
    })
    const o = await meter.meter({ orgId, action: 'save_comment', quantity: 5 })
    await meter.close()
    expect(o).toMatchObject({
      quantity: 5,
      includedUnits: 2,
      priceMicros: '15000',
      voucherMicros: '0',
      includedMicros: '1000',
      billableMicros: '14000',
    })
    expect(await unitsUsed(db, orgId, 'save_comment')).toBe(2)
    expect(await entriesOf(db, orgId, 'usage_units')).toBe(-10_000n)
    expect(await entriesOf(db, orgId, 'usage_billable')).toBe(18_000n)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
  })

  test('a hold draws units; commit for less and void give them back; a void of recorded usage too', async ({
    db,
  }) => {
    const orgId = await unitsOnlyOrg(db, 5)
    const meter = makeMeter(db)
    const held = await meter.reserve({ orgId, action: 'save_comment', quantity: 3 })
    expect(held).toMatchObject({ includedUnits: 3, priceMicros: '0' })
    expect(await unitsUsed(db, orgId, 'save_comment')).toBe(3)
    expect(await commitUsage(db, { orgId, usageId: held.usageId, quantity: 1 })).toMatchObject({
      includedUnits: 1,
      billableMicros: '0',
    })
    expect(await unitsUsed(db, orgId, 'save_comment')).toBe(1)
    const other = await meter.reserve({ orgId, action: 'save_comment', quantity: 4 })
    expect(await unitsUsed(db, orgId, 'save_comment')).toBe(5)
    await expect(meter.meter({ orgId, action: 'save_comment' })).rejects.toMatchObject({
      code: 'BILLING_INACTIVE',
    })
    await voidUsage(db, { orgId, usageId: other.usageId })
    expect(await unitsUsed(db, orgId, 'save_comment')).toBe(1)
    const recorded = await meter.meter({ orgId, action: 'save_comment', quantity: 4 })
    expect(recorded.includedUnits).toBe(4)
    await voidUsage(db, { orgId, usageId: recorded.usageId })
    expect(await unitsUsed(db, orgId, 'save_comment')).toBe(1)
    expect(await entriesOf(db, orgId, 'void_units')).toBe(4n * 5_000n)
    // Paid work resumes on what the void gave back.
    expect(await meter.meter({ orgId, action: 'save_comment', quantity: 4 })).toMatchObject({
      includedUnits: 4,
    })
    await meter.close()
    expect(await reconcileLedger(db, { orgId })).toEqual([])
  })

  test('reconcile catches a per-action counter off by one unit; an unknown action is refused', async ({
    db,
  }) => {
    const orgId = await unitsOnlyOrg(db, 5)
    const meter = makeMeter(db)
    await meter.meter({ orgId, action: 'save_comment', quantity: 2 })
    await meter.close()
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await db.$client`update billing_accounts
      set included_units_used = jsonb_set(included_units_used, '{save_comment}', '3')
      where org_id = ${orgId}`
    expect(await reconcileLedger(db, { orgId })).toEqual([
      expect.objectContaining({
        field: 'included_units_used.save_comment',
        expected: '2',
        actual: '3',
      }),
    ])
    await expect(
      setPlan(db, {
        orgId,
        includedMonthlyMicros: null,
        includedActions: { no_such_action: 1 },
        rateCard,
      }),
    ).rejects.toMatchObject({ code: 'UNKNOWN_ACTION' })
    expect((await showPlan(db, { orgId })).units).toMatchObject([{ included: 5 }])
  })
})
