import { randomUUID } from 'node:crypto'
import { closeDb, createDb } from '../../src/db/client.js'
import { clearBudget, setBudget, showBudgets } from '../../src/ledger/budgets.js'
import { createMeter, reconcileLedger, voidUsage } from '../../src/ledger/index.js'
import { describe, expect, test } from '../fixtures.js'
import { activeOrg, config, newKey } from './helpers.js'

const DAY = 86_400_000_000n
/** 2026-12-02T00:00:00Z, a Wednesday, in microseconds. */
const D0 = BigInt(Date.UTC(2026, 11, 2)) * 1000n

type Outcome = { usageId: string; price: bigint; keyId: string | null }

/**
 * `callers` concurrent callers metering `action` through `nodes` meters (each its own pool and
 * batcher) until each is refused once; returns what was accepted and the refusals.
 */
async function burst(
  nodes: Array<ReturnType<typeof createMeter>>,
  p: { orgId: string; keys: Array<string | null>; callers?: number; action?: string },
) {
  const accepted: Outcome[] = []
  const refusals: Array<{ code: string; details: Record<string, unknown> }> = []
  await Promise.all(
    Array.from({ length: p.callers ?? 64 }, async (_, caller) => {
      const meter = nodes[caller % nodes.length]!
      const keyId = p.keys[caller % p.keys.length]!
      for (;;) {
        try {
          const o = await meter.meter({
            orgId: p.orgId,
            keyId,
            action: p.action ?? 'save_comment',
          })
          accepted.push({ usageId: o.usageId, price: BigInt(o.priceMicros), keyId })
        } catch (e) {
          const err = e as { code: string; details: Record<string, unknown> }
          expect(err.code).toBe('SPEND_CAP_REACHED')
          refusals.push(err)
          return
        }
      }
    }),
  )
  return { accepted, refusals }
}

const sum = (xs: Outcome[]) => xs.reduce((s, o) => s + o.price, 0n)

/** Four meters, each with its own pool: their batches really race. */
function nodesOf(databaseUrl: string, clock?: () => bigint) {
  const dbs = Array.from({ length: 4 }, () => createDb({ url: databaseUrl, max: 3 }))
  const meters = dbs.map((d) =>
    createMeter(d, { rateCard: config.rateCard, product: config.product, clock }),
  )
  return {
    meters,
    close: async () => {
      for (const m of meters) await m.close()
      for (const d of dbs) await closeDb(d)
    },
  }
}

describe('budgets, enforced in the step that records the usage', () => {
  test('64 callers on one key near its daily budget: the accepted total is the budget, exactly', async ({
    db,
    databaseUrl,
  }) => {
    const { orgId } = await activeOrg(db, { allowance: 100_000_000n, credit: 30_000n })
    const key = await newKey(db, orgId)
    const other = await newKey(db, orgId)
    // 5,000 a comment: 1,000,000 holds exactly 200 of them (voucher-covered ones count too).
    await setBudget(db, { orgId, keyId: key, period: 'day', limitMicros: 1_000_000n, by: 'test' })
    const nodes = nodesOf(databaseUrl)
    const { accepted, refusals } = await burst(nodes.meters, { orgId, keys: [key] })
    expect(sum(accepted)).toBe(1_000_000n)
    expect(refusals).toHaveLength(64)
    const first = refusals[0]!.details
    expect(first).toMatchObject({
      scope: 'key',
      period: 'day',
      limit_micros: '1000000',
      spent_micros: '1000000',
    })
    const [y, m, d] = utcYmd(Date.now())
    const nextDay = new Date(Date.UTC(y, m, d + 1)).toISOString()
    expect(first.resets_at).toBe(nextDay)
    // Another key of the same org is not held to it.
    const o = await nodes.meters[0]!.meter({ orgId, keyId: other, action: 'save_comment' })
    expect(o.priceMicros).toBe('5000')
    // What was accepted is what was stored, under the key, and the budget shows it.
    const [stored] = await db.$client<{ n: number; total: bigint }[]>`
      select count(*)::int as n, sum(voucher_amount + billable_amount)::int8 as total
      from usage where org_id = ${orgId} and key_id = ${key}`
    expect(stored).toEqual({ n: accepted.length, total: 1_000_000n })
    const [view] = (await showBudgets(db, { orgId })).filter((b) => b.keyId === key)
    expect(view).toMatchObject({ spentMicros: 1_000_000n, remainingMicros: 0n })
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await nodes.close()
  })

  test('an org budget holds every key (and calls with no key) to one total', async ({
    db,
    databaseUrl,
  }) => {
    const { orgId } = await activeOrg(db, { allowance: 100_000_000n })
    const keys = [await newKey(db, orgId), await newKey(db, orgId), null]
    await setBudget(db, { orgId, period: 'week', limitMicros: 703_000n, by: 'test' })
    const nodes = nodesOf(databaseUrl)
    const { accepted, refusals } = await burst(nodes.meters, { orgId, keys, action: 'claim_issue' })
    // 7,000 a claim: 100 fit 703,000, and the 3,000 left fit no further claim.
    expect(sum(accepted)).toBe(700_000n)
    expect(new Set(refusals.map((r) => r.details.scope))).toEqual(new Set(['org']))
    expect(refusals[0]!.details).toMatchObject({ period: 'week', limit_micros: '703000' })
    // A cheaper action still fits what is left, to the micro-credit.
    const left = await burst(nodes.meters, { orgId, keys, action: 'save_issue.edit_title' })
    expect(sum(left.accepted)).toBe(3_000n)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await nodes.close()
  })

  test('a key budget inside an org budget: each caps its own scope, the tighter refuses', async ({
    db,
    databaseUrl,
  }) => {
    const { orgId } = await activeOrg(db, { allowance: 100_000_000n })
    const capped = await newKey(db, orgId)
    const free = await newKey(db, orgId)
    await setBudget(db, { orgId, period: 'month', limitMicros: 500_000n, by: 'test' })
    await setBudget(db, { orgId, keyId: capped, period: 'day', limitMicros: 200_000n, by: 'test' })
    const nodes = nodesOf(databaseUrl)
    const { accepted, refusals } = await burst(nodes.meters, { orgId, keys: [capped, free] })
    const byKey = (k: string) => sum(accepted.filter((a) => a.keyId === k))
    expect(byKey(capped)).toBeLessThanOrEqual(200_000n)
    expect(sum(accepted)).toBe(500_000n)
    const scopes = new Set(refusals.map((r) => r.details.scope))
    expect(scopes.has('org')).toBe(true)
    // The capped key is refused for its own budget while it is the tighter one.
    if (byKey(capped) === 200_000n) expect(scopes.has('key')).toBe(true)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await nodes.close()
  })

  test('the last microsecond of a UTC day counts in it; the first of the next starts afresh', async ({
    db,
  }) => {
    const { orgId } = await activeOrg(db, { allowance: 100_000_000n })
    const key = await newKey(db, orgId)
    let now = D0 + DAY - 10n
    const meter = createMeter(db, {
      rateCard: config.rateCard,
      product: config.product,
      clock: () => now,
    })
    await setBudget(db, { orgId, keyId: key, period: 'day', limitMicros: 10_000n, by: 't', now })
    await meter.meter({ orgId, keyId: key, action: 'save_comment' })
    now = D0 + DAY - 1n // 2026-12-02T23:59:59.999999Z
    await meter.meter({ orgId, keyId: key, action: 'save_comment' })
    const refused = await meter
      .meter({ orgId, keyId: key, action: 'save_comment' })
      .then(() => null)
      .catch((e) => e as { code: string; details: Record<string, unknown> })
    expect(refused?.code).toBe('SPEND_CAP_REACHED')
    expect(refused?.details).toMatchObject({
      scope: 'key',
      spent_micros: '10000',
      resets_at: '2026-12-03T00:00:00.000Z',
    })
    now = D0 + DAY // the first microsecond of 2026-12-03
    const next = await meter.meter({ orgId, keyId: key, action: 'save_comment' })
    expect(next.priceMicros).toBe('5000')
    const [b] = await showBudgets(db, { orgId, now })
    expect(b).toMatchObject({ spentMicros: 5_000n, windowStart: new Date('2026-12-03') })
    await meter.close()
  })

  test('a week starts on Monday and a month on the 1st, UTC', async ({ db }) => {
    const { orgId } = await activeOrg(db, { allowance: 100_000_000n })
    // 2026-12-06 is a Sunday, 2026-12-31 the last day of the month.
    const sunday = BigInt(Date.UTC(2026, 11, 7)) * 1000n - 1n
    let now = sunday
    const meter = createMeter(db, {
      rateCard: config.rateCard,
      product: config.product,
      clock: () => now,
    })
    await setBudget(db, { orgId, period: 'week', limitMicros: 5_000n, by: 't', now })
    await meter.meter({ orgId, action: 'save_comment' })
    await expect(meter.meter({ orgId, action: 'save_comment' })).rejects.toMatchObject({
      details: { scope: 'org', period: 'week', resets_at: '2026-12-07T00:00:00.000Z' },
    })
    now = sunday + 1n
    await meter.meter({ orgId, action: 'save_comment' })
    await clearBudget(db, { orgId, period: 'week' })
    const lastOfMonth = BigInt(Date.UTC(2027, 0, 1)) * 1000n - 1n
    now = lastOfMonth
    await setBudget(db, { orgId, period: 'month', limitMicros: 0n, by: 't', now })
    await expect(meter.meter({ orgId, action: 'save_comment' })).rejects.toMatchObject({
      details: { scope: 'org', period: 'month', resets_at: '2027-01-01T00:00:00.000Z' },
    })
    await meter.close()
  })

  test('an override raises a budget until its time, then the limit is back by itself, mid-burst', async ({
    db,
    databaseUrl,
  }) => {
    const { orgId } = await activeOrg(db, { allowance: 100_000_000n })
    const key = await newKey(db, orgId)
    const until = D0 + DAY / 2n
    // The clock crosses the override's end after the first batches have been decided.
    let calls = 0
    const clock = () => (++calls <= 6 ? until - 1n : until)
    await setBudget(db, {
      orgId,
      keyId: key,
      period: 'day',
      limitMicros: 20_000n,
      override: { limitMicros: 500_000n, until: new Date(Number(until / 1000n)) },
      by: 'test',
      now: D0,
    })
    const nodes = nodesOf(databaseUrl, clock)
    const { accepted, refusals } = await burst(nodes.meters, { orgId, keys: [key] })
    const rows = await db.$client<{ created: bigint; price: bigint }[]>`
      select (extract(epoch from created_at) * 1000000)::int8 as created,
        voucher_amount + billable_amount as price from usage where org_id = ${orgId}`
    const before = rows.filter((r) => r.created < until).reduce((s, r) => s + r.price, 0n)
    const after = rows.filter((r) => r.created >= until).reduce((s, r) => s + r.price, 0n)
    expect(before + after).toBe(sum(accepted))
    expect(before).toBeGreaterThan(0n)
    expect(before).toBeLessThanOrEqual(500_000n)
    // After the override's end only the limit holds: nothing more once 20,000 was spent.
    expect(before + after).toBeLessThanOrEqual(before > 20_000n ? before : 20_000n)
    expect(refusals.at(-1)!.details).toMatchObject({ scope: 'key', limit_micros: '20000' })
    await nodes.close()
  })

  test('a void gives its price back to the budget; a reservation holds, its commit releases the rest', async ({
    db,
  }) => {
    const { orgId } = await activeOrg(db, { allowance: 100_000_000n })
    const key = await newKey(db, orgId)
    const meter = createMeter(db, { rateCard: config.rateCard, product: config.product })
    await setBudget(db, { orgId, keyId: key, period: 'day', limitMicros: 21_000n, by: 't' })
    const spent = async () => (await showBudgets(db, { orgId }))[0]!.spentMicros
    const a = await meter.meter({ orgId, keyId: key, action: 'claim_issue' })
    expect(await spent()).toBe(7_000n)
    await voidUsage(db, { orgId, usageId: a.usageId })
    expect(await spent()).toBe(0n)
    const held = await meter.reserve({ orgId, keyId: key, action: 'next_batch', quantity: 3 })
    expect(await spent()).toBe(21_000n)
    await expect(meter.meter({ orgId, keyId: key, action: 'heartbeat' })).rejects.toMatchObject({
      code: 'SPEND_CAP_REACHED',
    })
    const { commitUsage } = await import('../../src/ledger/index.js')
    await commitUsage(db, { orgId, usageId: held.usageId, quantity: 1 })
    expect(await spent()).toBe(7_000n)
    await meter.meter({ orgId, keyId: key, action: 'claim_issue' })
    expect(await spent()).toBe(14_000n)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await meter.close()
  })

  test('a budget set mid-window counts what the window already metered; bad input changes nothing', async ({
    db,
  }) => {
    const { orgId } = await activeOrg(db, { allowance: 100_000_000n })
    const key = await newKey(db, orgId)
    const meter = createMeter(db, { rateCard: config.rateCard, product: config.product })
    await meter.meter({ orgId, keyId: key, action: 'save_comment' })
    await meter.meter({ orgId, action: 'save_comment' })
    const v = await setBudget(db, {
      orgId,
      keyId: key,
      period: 'day',
      limitMicros: 5_000n,
      by: 't',
    })
    expect(v).toMatchObject({ spentMicros: 5_000n, remainingMicros: 0n })
    await expect(meter.meter({ orgId, keyId: key, action: 'save_comment' })).rejects.toMatchObject({
      code: 'SPEND_CAP_REACHED',
    })
    await expect(
      setBudget(db, { orgId, keyId: randomUUID(), period: 'day', limitMicros: 1n, by: 't' }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' })
    await expect(
      setBudget(db, { orgId, period: 'year' as 'day', limitMicros: 1n, by: 't' }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' })
    await expect(
      setBudget(db, { orgId, period: 'day', limitMicros: -1n, by: 't' }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' })
    expect(await showBudgets(db, { orgId })).toHaveLength(1)
    // Minting a session key is never refused for a budget: it goes free.
    const mint = await meter.meter({ orgId, keyId: key, action: 'mint_session_key' })
    expect(mint).toMatchObject({ free: 'session_key', priceMicros: '0' })
    await meter.close()
  })
})

function utcYmd(ms: number): [number, number, number] {
  const d = new Date(ms)
  return [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()]
}
