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
const DOLLAR = 1_000_000n

describe('included allowances (plans)', () => {
  test('a $1 monthly allowance is drawn after the voucher; the first billable micro-credit comes only once it is used up, exactly', async ({
    db,
  }) => {
    // 5,000 a comment; 2,000 of voucher: the first comment is 2,000 voucher + 3,000 included.
    const { orgId } = await activeOrg(db, { allowance: 100_000_000n, credit: 2_000n })
    await setPlan(db, { orgId, includedMonthlyMicros: DOLLAR })
    const meter = makeMeter(db)
    const outcomes = []
    for (;;) {
      const o = await meter.meter({ orgId, action: 'save_comment' })
      outcomes.push(o)
      if (o.billableMicros !== '0') break
    }
    await meter.close()
    const included = outcomes.reduce((s, o) => s + BigInt(o.includedMicros), 0n)
    expect(included).toBe(DOLLAR)
    expect(outcomes[0]).toMatchObject({ voucherMicros: '2000', includedMicros: '3000' })
    // 1 + 199 comments drew 998,000: the 201st takes the last 2,000 and bills 3,000.
    expect(outcomes).toHaveLength(201)
    expect(outcomes.at(-1)).toMatchObject({ includedMicros: '2000', billableMicros: '3000' })
    expect(outcomes.slice(0, -1).every((o) => o.billableMicros === '0')).toBe(true)
    expect(await showPlan(db, { orgId })).toMatchObject({
      includedMonthlyMicros: DOLLAR,
      usedMicros: DOLLAR,
      remainingMicros: 0n,
    })
    expect(await entriesOf(db, orgId, 'usage_included')).toBe(-DOLLAR)
    expect(await entriesOf(db, orgId, 'usage_billable')).toBe(3_000n)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
  })

  test('64 concurrent callers across the allowance’s edge: what it pays never exceeds it', async ({
    db,
    databaseUrl,
  }) => {
    // A prepaid org with nothing but its plan: every action past the allowance is refused.
    const { orgId } = await newOrg(db, 0n)
    await setBillingMode(db, { orgId, mode: 'prepaid' })
    await setPlan(db, { orgId, includedMonthlyMicros: DOLLAR + 3_000n })
    const dbs = Array.from({ length: 4 }, () => createDb({ url: databaseUrl, max: 3 }))
    const meters = dbs.map((d) =>
      createMeter(d, { rateCard: config.rateCard, product: config.product }),
    )
    let accepted = 0n
    let refused = 0
    await Promise.all(
      Array.from({ length: 64 }, async (_, caller) => {
        for (;;) {
          try {
            const o = await meters[caller % 4]!.meter({ orgId, action: 'save_comment' })
            expect(o.billableMicros).toBe('0')
            accepted += BigInt(o.includedMicros)
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
    // 200 comments fit $1.003; the 3,000 left over fits none.
    expect(accepted).toBe(200n * 5_000n)
    expect(refused).toBe(64)
    expect(await showPlan(db, { orgId })).toMatchObject({ usedMicros: 200n * 5_000n })
    expect(await reconcileLedger(db, { orgId })).toEqual([])
  })

  test('renews at the UTC month’s boundary: the last microsecond of one, the first of the next', async ({
    db,
  }) => {
    let clock = DEC_LAST - 10n
    const { orgId } = await newOrg(db, 0n)
    await setBillingMode(db, { orgId, mode: 'prepaid' })
    await setPlan(db, { orgId, includedMonthlyMicros: 10_000n })
    const meter = makeMeter(db, () => clock)
    await meter.meter({ orgId, action: 'save_comment' })
    await meter.meter({ orgId, action: 'save_comment' })
    clock = DEC_LAST
    await expect(meter.meter({ orgId, action: 'save_comment' })).rejects.toMatchObject({
      code: 'BILLING_INACTIVE',
      details: { reason: 'no_credit' },
    })
    clock = JAN
    const o = await meter.meter({ orgId, action: 'save_comment' })
    expect(o).toMatchObject({ includedMicros: '5000', billableMicros: '0' })
    await meter.close()
    expect(await showPlan(db, { orgId, now: JAN })).toMatchObject({
      usedMicros: 5_000n,
      remainingMicros: 5_000n,
      windowStart: new Date(Number(JAN / 1000n)),
      renewsAt: new Date(Date.UTC(2027, 1, 1)),
    })
    expect(await reconcileLedger(db, { orgId })).toEqual([])
  })

  test('a void returns to the allowance it drew from; a hold draws it until committed or voided', async ({
    db,
  }) => {
    const { orgId } = await newOrg(db, 0n)
    await setBillingMode(db, { orgId, mode: 'prepaid' })
    await setPlan(db, { orgId, includedMonthlyMicros: 10_000n })
    const meter = makeMeter(db)
    const a = await meter.meter({ orgId, action: 'save_comment' })
    const b = await meter.meter({ orgId, action: 'save_comment' })
    await expect(meter.meter({ orgId, action: 'save_comment' })).rejects.toMatchObject({
      code: 'BILLING_INACTIVE',
    })
    await voidUsage(db, { orgId, usageId: a.usageId })
    expect((await showPlan(db, { orgId })).usedMicros).toBe(5_000n)
    expect(await entriesOf(db, orgId, 'void_included')).toBe(5_000n)
    // Paid work resumes on what the void gave back.
    const c = await meter.meter({ orgId, action: 'save_comment' })
    expect(c.includedMicros).toBe('5000')
    await voidUsage(db, { orgId, usageId: b.usageId })
    await voidUsage(db, { orgId, usageId: c.usageId })
    // A hold of two comments draws 10,000; committing one gives 5,000 back.
    const held = await meter.reserve({ orgId, action: 'save_comment', quantity: 2 })
    expect(held.includedMicros).toBe('10000')
    expect((await showPlan(db, { orgId })).usedMicros).toBe(10_000n)
    expect(await commitUsage(db, { orgId, usageId: held.usageId, quantity: 1 })).toMatchObject({
      includedMicros: '5000',
    })
    expect((await showPlan(db, { orgId })).usedMicros).toBe(5_000n)
    const other = await meter.reserve({ orgId, action: 'save_comment', quantity: 1 })
    await voidUsage(db, { orgId, usageId: other.usageId })
    await meter.close()
    expect((await showPlan(db, { orgId })).usedMicros).toBe(5_000n)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
  })
})
