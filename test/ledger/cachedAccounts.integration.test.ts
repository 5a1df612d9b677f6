import {
  BillingInactiveError,
  commitUsage,
  getBillingSummary,
  IdempotencyConflictError,
  reconcileLedger,
  SpendCapReachedError,
} from '../../src/ledger/index.js'
import {
  authorizeSubscription,
  setSubscriptionState,
} from '../../src/subscriptions/state/authorizeSubscription.js'
import { describe, expect, test } from '../fixtures.js'
import { activeOrg, config, makeMeter } from './helpers.js'

const price = config.rateCard.prices.save_comment!

/** The transaction that last locked or updated `orgId`'s account row (xmax, xmin). */
const rowMarks = async (db: Parameters<typeof getBillingSummary>[0], orgId: string) =>
  (
    await db.$client<{ xmin: string; xmax: string }[]>`
      select xmin::text, xmax::text from billing_accounts where org_id = ${orgId}`
  )[0]!

/** The owner signs again (the subscription row changes): active, with 1,000,000 of allowance. */
const signAgain = (
  db: Parameters<typeof getBillingSummary>[0],
  org: { orgId: string; subscriptionId: string },
) =>
  authorizeSubscription(db, {
    ...org,
    owner: '0x00000000000000000000000000000000000000aa',
    allowance: 1_000_000n,
  })

/** Usage rows of `orgId`: a try that found its accounts changed must have left none. */
const usageCount = async (db: Parameters<typeof getBillingSummary>[0], orgId: string) =>
  Number(
    (await db.$client<{ n: bigint }[]>`select count(*) as n from usage where org_id = ${orgId}`)[0]!
      .n,
  )

// The engine keeps each account as its own last batch left it and decides the next batch on
// that copy, in one round trip, checking the row versions as it writes. These tests change the
// rows behind its back and check that it never decides on what it cached once it is stale.
describe('metering on cached accounts', () => {
  test('a subscription moved elsewhere is seen: the cached try writes nothing, the action is refused', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    const { orgId, subscriptionId } = await activeOrg(db, { allowance: 1_000_000n })
    await meter.meter({ orgId, action: 'save_comment' }) // read and locked, then cached
    await meter.meter({ orgId, action: 'save_comment' })
    expect(meter.stats).toMatchObject({ batches: 2, cached: 1, stale: 0 })

    // Only the subscription row changes (the account row is untouched).
    await setSubscriptionState(db, { subscriptionId, to: 'lapsed', cause: 'chain', reason: 'test' })
    const refused = await meter.meter({ orgId, action: 'save_comment' }).catch((e) => e)
    expect(refused).toBeInstanceOf(BillingInactiveError)
    expect(refused.details).toMatchObject({ reason: 'inactive', subscription_id: subscriptionId })
    expect(meter.stats).toMatchObject({ cached: 1, stale: 1 })
    expect(await usageCount(db, orgId)).toBe(2)

    await signAgain(db, { orgId, subscriptionId })
    const again = await meter.meter({ orgId, action: 'save_comment' })
    expect(again.billableMicros).toBe(price.toString())
    expect((await getBillingSummary(db, orgId)).accrued).toBe(3n * price)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await meter.close()
  })

  test('usage another engine recorded is counted: the allowance holds to the micro-credit', async ({
    db,
  }) => {
    const a = makeMeter(db)
    const b = makeMeter(db)
    const allowance = 10n * price
    const { orgId } = await activeOrg(db, { allowance })
    for (let i = 0; i < 5; i++) await a.meter({ orgId, action: 'save_comment' })
    expect(a.stats.cached).toBe(4)
    // Another process uses up the rest; `a` still holds the account as it left it.
    for (let i = 0; i < 5; i++) await b.meter({ orgId, action: 'save_comment' })
    const refused = await a.meter({ orgId, action: 'save_comment' }).catch((e) => e)
    expect(refused).toBeInstanceOf(BillingInactiveError)
    expect(a.stats.stale).toBe(1)
    const summary = await getBillingSummary(db, orgId)
    expect(summary.accrued).toBe(allowance)
    expect(summary.state).toBe('needs_reauth')
    expect(await usageCount(db, orgId)).toBe(10)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await a.close()
    await b.close()
  })

  test('a key already stored is answered with its first outcome, and a stale try only re-reads the org that changed', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    const other = makeMeter(db)
    const one = await activeOrg(db, { allowance: 1_000_000n })
    const two = await activeOrg(db, { allowance: 1_000_000n })
    const first = await meter.meter({
      orgId: one.orgId,
      action: 'save_comment',
      idempotencyKey: 'k1',
    })
    await meter.meter({ orgId: two.orgId, action: 'save_comment' })
    await meter.meter({ orgId: one.orgId, action: 'save_comment', idempotencyKey: 'k2' })
    expect(meter.stats.cached).toBe(1)
    // The cached try fails on the key's unique index; the locked way finds the first outcome.
    const retry = await meter.meter({
      orgId: one.orgId,
      action: 'save_comment',
      idempotencyKey: 'k1',
    })
    expect(retry).toEqual({ ...first, replayed: true })
    const conflict = await meter
      .meter({ orgId: one.orgId, action: 'save_comment', quantity: 2, idempotencyKey: 'k1' })
      .catch((e) => e)
    expect(conflict).toBeInstanceOf(IdempotencyConflictError)
    expect(meter.stats.stale).toBe(0)

    // One batch of two orgs, one of them changed elsewhere: only that one is read again.
    await other.meter({ orgId: two.orgId, action: 'save_comment' })
    await Promise.all([
      meter.meter({ orgId: one.orgId, action: 'save_comment' }),
      meter.meter({ orgId: two.orgId, action: 'save_comment' }),
    ])
    expect(meter.stats.stale).toBe(1)
    const cached = meter.stats.cached
    await meter.meter({ orgId: one.orgId, action: 'save_comment' })
    expect(meter.stats.cached).toBe(cached + 1)
    expect(await usageCount(db, one.orgId)).toBe(4)
    expect(await usageCount(db, two.orgId)).toBe(3)
    for (const { orgId } of [one, two]) expect(await reconcileLedger(db, { orgId })).toEqual([])
    await meter.close()
    await other.close()
  })

  test('a retried key answers its first outcome: a metered action from its usage row, a reservation as it was before its commit', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    const { orgId, subscriptionId } = await activeOrg(db, { credit: 4_000n, allowance: 1_000_000n })
    // Voucher first, the rest billable: every part of the outcome is in the usage row.
    const split = await meter.meter({ orgId, action: 'save_comment', idempotencyKey: 'split' })
    expect(split).toMatchObject({ voucherMicros: '4000', billableMicros: '1000', free: null })
    const held = await meter.reserve({
      orgId,
      action: 'claim_issue',
      quantity: 3,
      idempotencyKey: 'hold',
    })
    await commitUsage(db, { orgId, usageId: held.usageId, quantity: 1 })
    // Blocked: the wind-down of an earlier lease is recorded free, with its reason.
    const claimedAt = new Date(Date.now() - 60_000)
    await setSubscriptionState(db, { subscriptionId, to: 'lapsed', cause: 'chain', reason: 'test' })
    const windDown = await meter.meter({
      orgId,
      action: 'heartbeat',
      leaseClaimedAt: claimedAt,
      idempotencyKey: 'beat',
    })
    expect(windDown).toMatchObject({ priceMicros: '0', free: 'wind_down' })

    expect(await meter.meter({ orgId, action: 'save_comment', idempotencyKey: 'split' })).toEqual({
      ...split,
      replayed: true,
    })
    expect(
      await meter.reserve({ orgId, action: 'claim_issue', quantity: 3, idempotencyKey: 'hold' }),
    ).toEqual({ ...held, replayed: true })
    expect(
      await meter.meter({
        orgId,
        action: 'heartbeat',
        leaseClaimedAt: claimedAt,
        idempotencyKey: 'beat',
      }),
    ).toEqual({ ...windDown, replayed: true })
    // Only the reservation's outcome is stored whole.
    const keys = await db.$client<{ key: string; stored: boolean }[]>`
      select key, outcome is not null as stored from idempotency_keys where org_id = ${orgId} order by key`
    expect(keys).toEqual([
      { key: 'beat', stored: false },
      { key: 'hold', stored: true },
      { key: 'split', stored: false },
    ])
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await meter.close()
  })

  test('after a stale try the org goes the locked way for a second, however many batches that holds', async ({
    db,
  }) => {
    const a = makeMeter(db)
    const b = makeMeter(db)
    const { orgId } = await activeOrg(db, { allowance: 1_000_000n })
    await a.meter({ orgId, action: 'save_comment' })
    await a.meter({ orgId, action: 'save_comment' })
    expect(a.stats).toMatchObject({ cached: 1, stale: 0 })
    // Another process meters the org: `a`'s next try is stale, and the ones after it lock.
    await b.meter({ orgId, action: 'save_comment' })
    for (let i = 0; i < 4; i++) await a.meter({ orgId, action: 'save_comment' })
    expect(a.stats).toMatchObject({ batches: 6, cached: 1, stale: 1 })
    expect(await usageCount(db, orgId)).toBe(7)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await a.close()
    await b.close()
  })

  test('an org that cannot pay is refused on its cached account: one read, no lock, nothing written — until its rows change', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    const { orgId, subscriptionId } = await activeOrg(db, { allowance: 1_000_000n })
    await setSubscriptionState(db, { subscriptionId, to: 'lapsed', cause: 'chain', reason: 'test' })
    const refusal = () => meter.meter({ orgId, action: 'save_comment' }).catch((e) => e)
    // The first refusal is decided on locked rows (the account is not cached yet).
    expect(await refusal()).toBeInstanceOf(BillingInactiveError)
    expect(meter.stats).toMatchObject({ batches: 1, cached: 0 })
    const locked = await rowMarks(db, orgId)
    for (let i = 0; i < 3; i++) {
      const refused = await refusal()
      expect(refused).toBeInstanceOf(BillingInactiveError)
      expect(refused.details).toMatchObject({ reason: 'inactive', subscription_id: subscriptionId })
    }
    // Answered after a read each: no batch, nothing committed.
    expect(meter.stats).toMatchObject({ batches: 1, cached: 0, refusedCached: 3, stale: 0 })
    // No later batch locked the row (a lock marks it with the locking transaction, as xmax).
    expect(await rowMarks(db, orgId)).toEqual(locked)
    expect(await usageCount(db, orgId)).toBe(0)

    // The owner signs again: the cached refusal is found stale, and the action goes through.
    await signAgain(db, { orgId, subscriptionId })
    const accepted = await meter.meter({ orgId, action: 'save_comment' })
    expect(accepted.billableMicros).toBe(price.toString())
    expect(meter.stats).toMatchObject({ stale: 1 })
    expect(await usageCount(db, orgId)).toBe(1)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await meter.close()
  })

  test('one batch with an org that pays and one that cannot: the first is written, the second refused on its cached account', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    const paying = await activeOrg(db, { allowance: 1_000_000n })
    const blocked = await activeOrg(db, { allowance: 1_000_000n })
    await setSubscriptionState(db, {
      subscriptionId: blocked.subscriptionId,
      to: 'canceled',
      cause: 'owner',
      reason: 'test',
    })
    const both = () =>
      Promise.all([
        meter.meter({ orgId: paying.orgId, action: 'save_comment' }),
        meter.meter({ orgId: blocked.orgId, action: 'save_comment' }).catch((e) => e),
      ])
    await both() // read and locked, then cached
    const { cached, refusedCached, batches } = meter.stats
    const [paid, refused] = await both()
    expect(paid.billableMicros).toBe(price.toString())
    expect(refused).toBeInstanceOf(BillingInactiveError)
    // Each part went its cached way: the write for one org (a batch), the read for the other.
    expect(meter.stats).toMatchObject({
      cached: cached + 1,
      refusedCached: refusedCached + 1,
      batches: batches + 1,
    })
    expect(meter.stats.stale).toBe(0)
    expect(await usageCount(db, paying.orgId)).toBe(2)
    expect(await usageCount(db, blocked.orgId)).toBe(0)
    expect(await reconcileLedger(db, { orgId: paying.orgId })).toEqual([])
    await meter.close()
  })

  test('the monthly limit pauses an org on its cached account; the state stays active', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    const { orgId } = await activeOrg(db, { allowance: 1_000_000n, monthlyLimit: 2n * price })
    await meter.meter({ orgId, action: 'save_comment' })
    await meter.meter({ orgId, action: 'save_comment' })
    const { cached, refusedCached, batches } = meter.stats
    const locked = await rowMarks(db, orgId)
    for (let i = 0; i < 3; i++)
      expect(await meter.meter({ orgId, action: 'save_comment' }).catch((e) => e)).toBeInstanceOf(
        SpendCapReachedError,
      )
    // Three refusals, each answered after a read: no batch, nothing committed.
    expect(meter.stats).toMatchObject({ cached, refusedCached: refusedCached + 3, batches })
    expect(await rowMarks(db, orgId)).toEqual(locked)
    const summary = await getBillingSummary(db, orgId)
    expect(summary.state).toBe('active')
    expect(summary.accrued).toBe(2n * price)
    await meter.close()
  })

  test('with the cache off every batch is decided on locked rows', async ({ db }) => {
    const { createMeter } = await import('../../src/ledger/index.js')
    const meter = createMeter(db, {
      rateCard: config.rateCard,
      product: config.product,
      accountCache: 0,
    })
    const { orgId } = await activeOrg(db, { allowance: 1_000_000n })
    for (let i = 0; i < 3; i++) await meter.meter({ orgId, action: 'save_comment' })
    expect(meter.stats).toMatchObject({ batches: 3, cached: 0, stale: 0 })
    await meter.close()
  })
})
