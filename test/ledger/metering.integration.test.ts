import { statusOf } from '../../src/api/errorStatus.js'
import {
  BillingInactiveError,
  bookCharges,
  commitUsage,
  getBillingSummary,
  IdempotencyConflictError,
  listLedgerEntries,
  markChargeCollected,
  reconcileLedger,
  SpendCapReachedError,
  voidUsage,
} from '../../src/ledger/index.js'
import {
  authorizeSubscription,
  setSubscriptionState,
} from '../../src/subscriptions/state/authorizeSubscription.js'
import { describe, expect, test } from '../fixtures.js'
import { answered } from '../support/answered.js'
import { activeOrg, makeMeter, newOrg } from './helpers.js'

describe('metering against PostgreSQL', () => {
  test('pending: the voucher pays in full, then no_credit with the spec message', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    const { orgId, subscriptionId } = await newOrg(db, 10_000n)
    const a = await meter.meter({ orgId, action: 'claim_issue' }) // 7,000
    expect(a).toMatchObject({
      priceMicros: '7000',
      voucherMicros: '7000',
      billableMicros: '0',
      rateVersion: '2026-11-01',
    })
    const refused = await meter.meter({ orgId, action: 'save_comment' }).catch((e) => e) // 5,000 > 3,000 left
    expect(refused).toBeInstanceOf(BillingInactiveError)
    expect(statusOf(refused.code)).toBe(402)
    expect(refused.details).toMatchObject({
      reason: 'no_credit',
      subscription_id: subscriptionId,
      reup_url: `https://tollgate.test/s/${subscriptionId}`,
    })
    expect(refused.message).toBe(
      `BILLING_INACTIVE: your starting credit is used up and there's no active subscription — reads are allowed but writes are blocked. Re-authorize in the Tollgate Dash (dash.tollgate.test) or at /s/${subscriptionId}.`,
    )
    const ok = await meter.meter({ orgId, action: 'save_issue.edit_title' }) // 3,000 fits exactly
    expect(ok.voucherMicros).toBe('3000')
    expect((await getBillingSummary(db, orgId)).signupCredit).toBe(0n)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await meter.close()
  })

  test('active: voucher first, split, then billable; headroom exact; needs_reauth on the action that does not fit', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    const { orgId } = await activeOrg(db, { credit: 2_000n, allowance: 12_000n })
    const split = await meter.meter({ orgId, action: 'save_comment' })
    expect(split).toMatchObject({ voucherMicros: '2000', billableMicros: '3000' })
    const second = await meter.meter({ orgId, action: 'claim_issue' }) // 3,000 + 7,000 = 10,000 ≤ 12,000
    expect(second.billableMicros).toBe('7000')
    const refused = await meter.meter({ orgId, action: 'save_comment' }).catch((e) => e) // 15,000 > 12,000
    expect(refused).toBeInstanceOf(BillingInactiveError)
    expect(refused.details.reason).toBe('inactive')
    const summary = await getBillingSummary(db, orgId)
    expect(summary.state).toBe('needs_reauth')
    expect(summary).toMatchObject({ accrued: 10_000n, remaining: 2_000n, signupCredit: 0n })
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await meter.close()
  })

  test('monthly limit: SPEND_CAP_REACHED, state stays active; voucher never counts', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    const { orgId } = await activeOrg(db, {
      credit: 5_000n,
      allowance: 1_000_000n,
      monthlyLimit: 10_000n,
    })
    await meter.meter({ orgId, action: 'save_comment' }) // voucher
    await meter.meter({ orgId, action: 'claim_issue' }) // 7,000 billable
    const refused = await meter.meter({ orgId, action: 'save_issue.edit_title' }).catch((e) => e) // 3,000 → 10,000 ok
    expect(refused.billableMicros).toBe('3000')
    const capped = await meter.meter({ orgId, action: 'heartbeat' }).catch((e) => e)
    expect(capped).toBeInstanceOf(SpendCapReachedError)
    expect(statusOf(capped.code)).toBe(402)
    expect((await getBillingSummary(db, orgId)).state).toBe('active')
    await meter.close()
  })

  test("re-authorizing keeps the window's spend; a new window start (the chain's) resets it", async ({
    db,
  }) => {
    const meter = makeMeter(db)
    const { orgId, subscriptionId } = await newOrg(db, 0n)
    const start = Math.floor(Date.now() / 1000) - 60
    const authorize = (allowance: bigint, windowStart: number) =>
      authorizeSubscription(db, {
        orgId,
        subscriptionId,
        owner: '0x00000000000000000000000000000000000000aa',
        allowance,
        monthlyLimit: 10_000n,
        windowStart,
      })
    await authorize(100_000n, start)
    await meter.meter({ orgId, action: 'claim_issue' })
    await authorize(200_000n, start) // a top-up: same windows
    expect(await getBillingSummary(db, orgId)).toMatchObject({
      spentThisWindow: 7_000n,
      accrued: 7_000n,
      remaining: 193_000n,
      state: 'active',
    })
    const capped = await meter.meter({ orgId, action: 'claim_issue' }).catch((e) => e)
    expect(capped).toBeInstanceOf(SpendCapReachedError)
    await authorize(200_000n, start + 30) // a new authorization on-chain starts new windows
    expect((await getBillingSummary(db, orgId)).spentThisWindow).toBe(0n)
    expect((await meter.meter({ orgId, action: 'claim_issue' })).billableMicros).toBe('7000')
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await meter.close()
  })

  test('gated states refuse paid work but never mint_session_key or wind-down of an earlier lease', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    for (const state of ['lapsed', 'needs_reauth', 'canceled'] as const) {
      const { orgId, subscriptionId } = await activeOrg(db, { allowance: 1_000_000n })
      const claimedAt = new Date(Date.now() - 60_000)
      await setSubscriptionState(db, { subscriptionId, to: state, cause: 'chain', reason: 'test' })
      const refused = await meter.meter({ orgId, action: 'claim_issue' }).catch((e) => e)
      expect(refused).toBeInstanceOf(BillingInactiveError)
      expect(refused.details).toMatchObject({ reason: 'inactive', state })
      const key = await meter.meter({ orgId, action: 'mint_session_key' })
      expect(key).toMatchObject({ priceMicros: '0', free: 'session_key' })
      for (const action of ['heartbeat', 'checkpoint', 'release_issue']) {
        const w = await meter.meter({ orgId, action, leaseClaimedAt: claimedAt })
        expect(w).toMatchObject({ priceMicros: '0', free: 'wind_down' })
      }
      // A wind-down reservation let through free commits free.
      const held = await meter.reserve({ orgId, action: 'checkpoint', leaseClaimedAt: claimedAt })
      expect(held).toMatchObject({ priceMicros: '0', free: 'wind_down', status: 'reserved' })
      expect(await commitUsage(db, { orgId, usageId: held.usageId, quantity: 1 })).toMatchObject({
        voucherMicros: '0',
        billableMicros: '0',
      })
      expect((await getBillingSummary(db, orgId)).accrued).toBe(0n)
      // A "lease" claimed after the block is no free write channel.
      const late = await meter
        .meter({ orgId, action: 'checkpoint', leaseClaimedAt: new Date(Date.now() + 1000) })
        .catch((e) => e)
      expect(late).toBeInstanceOf(BillingInactiveError)
    }
    await meter.close()
  })

  test('idempotency: same key → first outcome; other parameters → conflict; nothing charged twice', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    const { orgId } = await activeOrg(db, { allowance: 1_000_000n })
    const first = await meter.meter({ orgId, action: 'save_comment', idempotencyKey: 'k-1' })
    const again = await meter.meter({ orgId, action: 'save_comment', idempotencyKey: 'k-1' })
    expect(again).toEqual({ ...first, replayed: true })
    const clash = await meter
      .meter({ orgId, action: 'claim_issue', idempotencyKey: 'k-1' })
      .catch((e) => e)
    expect(clash).toBeInstanceOf(IdempotencyConflictError)
    expect(statusOf(clash.code)).toBe(409)
    // Twenty retries racing in one batch: one charge.
    const racing = await Promise.all(
      Array.from({ length: 20 }, () =>
        meter.meter({ orgId, action: 'checkpoint', idempotencyKey: 'k-2' }),
      ),
    )
    expect(new Set(racing.map((r) => r.usageId)).size).toBe(1)
    expect((await getBillingSummary(db, orgId)).accrued).toBe(10_000n)
    await meter.close()
  })

  test('idempotency keys are stored as given, whatever characters they hold', async ({ db }) => {
    const meter = makeMeter(db)
    const { orgId } = await activeOrg(db, { allowance: 1_000_000n })
    const keys = [
      'a"b',
      'back\\slash',
      'c,d',
      '{e}',
      'NULL',
      'null',
      'Null',
      '',
      ' spaced ',
      'ünï"\\cödé',
      "it's",
      'plain-word_1.2:3+4', // written unquoted
      '2026-11-30T14:07:49.123456Z',
    ]
    // One batch: every key in the same array parameters.
    const first = await Promise.all(
      keys.map((idempotencyKey) => meter.meter({ orgId, action: 'checkpoint', idempotencyKey })),
    )
    const stored = await db.$client<{ key: string }[]>`
      select key from idempotency_keys where org_id = ${orgId}`
    expect(stored.map((r) => r.key).sort()).toEqual([...keys].sort())
    const usage = await db.$client<{ idempotency_key: string }[]>`
      select idempotency_key from usage where org_id = ${orgId}`
    expect(usage.map((r) => r.idempotency_key).sort()).toEqual([...keys].sort())
    // Each key replays its own first outcome.
    for (const [i, idempotencyKey] of keys.entries()) {
      const again = await meter.meter({ orgId, action: 'checkpoint', idempotencyKey })
      expect(again).toEqual({ ...first[i], replayed: true })
    }
    await meter.close()
  })

  test("a write failing for one org's action rolls its batch back, and the others still land", async ({
    db,
  }) => {
    const meter = makeMeter(db)
    const good = await activeOrg(db, { allowance: 1_000_000n })
    const bad = await activeOrg(db, { allowance: 1_000_000n })
    // A trigger stands in for any database error on one org's rows (a constraint, a full disk).
    await db.$client.unsafe(`
      create or replace function tg_test_fail_usage() returns trigger language plpgsql as $$
      begin
        if new.org_id = '${bad.orgId}' then raise exception 'injected failure'; end if;
        return new;
      end $$;
      create trigger tg_test_fail_usage before insert on usage
        for each row execute function tg_test_fail_usage();`)
    try {
      // Queued in one tick: one batch, with both orgs in it.
      const [a, b, c] = await Promise.allSettled([
        meter.meter({ orgId: good.orgId, action: 'save_comment', idempotencyKey: 'g-1' }),
        meter.meter({ orgId: bad.orgId, action: 'save_comment', idempotencyKey: 'b-1' }),
        meter.meter({ orgId: good.orgId, action: 'claim_issue' }),
      ])
      expect([a.status, b.status, c.status]).toEqual(['fulfilled', 'rejected', 'fulfilled'])
      expect(answered((b as PromiseRejectedResult).reason)).toMatchObject({
        code: 'RETRYABLE',
        status: 503,
      })
    } finally {
      await db.$client.unsafe('drop trigger tg_test_fail_usage on usage')
    }
    expect(await getBillingSummary(db, good.orgId)).toMatchObject({ accrued: 12_000n })
    const badSummary = await getBillingSummary(db, bad.orgId)
    expect(badSummary).toMatchObject({ accrued: 0n })
    const [keys] = await db.$client<{ n: bigint }[]>`
      select count(*)::int8 as n from idempotency_keys where org_id = ${bad.orgId}`
    expect(keys!.n).toBe(0n)
    // The key was never spent: a retry after the fault is charged once.
    const retry = await meter.meter({
      orgId: bad.orgId,
      action: 'save_comment',
      idempotencyKey: 'b-1',
    })
    expect(retry).toMatchObject({ billableMicros: '5000', replayed: false })
    expect(await reconcileLedger(db, { orgId: good.orgId })).toEqual([])
    expect(await reconcileLedger(db, { orgId: bad.orgId })).toEqual([])
    expect(meter.stats.batches).toBeGreaterThanOrEqual(2)
    await meter.close()
  })

  test('a few queued actions share one transaction; a second starts only for 32 queued or more', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    const orgs = await Promise.all(
      Array.from({ length: 40 }, () => activeOrg(db, { allowance: 1_000_000n })),
    )
    const round = async (n: number) => {
      const before = meter.stats.batches
      const outcomes = await Promise.all(
        orgs.slice(0, n).map((o) => meter.meter({ orgId: o.orgId, action: 'save_comment' })),
      )
      expect(outcomes.every((o) => o.billableMicros === '5000')).toBe(true)
      return meter.stats.batches - before
    }
    await round(40) // every account read once (the first batches lock rows)
    // Queued in one tick, 16 orgs' actions are one transaction, not one per free slot.
    expect(await round(16)).toBe(1)
    expect(await round(31)).toBe(1)
    // 32 and more are shared between the two slots.
    expect(await round(40)).toBe(2)
    // Queued while one is in flight: they wait for it, then go together.
    const before = meter.stats.batches
    const first = meter.meter({ orgId: orgs[0]!.orgId, action: 'save_comment' })
    await new Promise((r) => setImmediate(r))
    await Promise.all([
      first,
      ...orgs.slice(1, 6).map((o) => meter.meter({ orgId: o.orgId, action: 'save_comment' })),
    ])
    expect(meter.stats.batches - before).toBe(2)
    for (const o of orgs) expect(await reconcileLedger(db, { orgId: o.orgId })).toEqual([])
    await meter.close()
  })

  test('reserve → commit charges what was used; void and expiry release the hold', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    const { orgId } = await activeOrg(db, { credit: 7_000n, allowance: 100_000n })
    const held = await meter.reserve({ orgId, action: 'next_batch', quantity: 5 }) // 35,000
    expect(held).toMatchObject({
      status: 'reserved',
      voucherMicros: '7000',
      billableMicros: '28000',
    })
    let s = await getBillingSummary(db, orgId)
    expect(s).toMatchObject({ reserved: 28_000n, signupCredit: 0n, remaining: 72_000n })
    await commitUsage(db, { orgId, usageId: held.usageId, quantity: 2 }) // 14,000: 7,000 voucher + 7,000 billable
    s = await getBillingSummary(db, orgId)
    expect(s).toMatchObject({ reserved: 0n, accrued: 7_000n, signupCredit: 0n })
    const second = await meter.reserve({ orgId, action: 'next_batch', quantity: 3 })
    await voidUsage(db, { orgId, usageId: second.usageId })
    const recorded = await meter.meter({ orgId, action: 'save_comment' })
    await voidUsage(db, { orgId, usageId: recorded.usageId, reason: 'work failed' })
    s = await getBillingSummary(db, orgId)
    expect(s).toMatchObject({ reserved: 0n, accrued: 7_000n })
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await meter.close()
  })

  test('booking and collecting move accrued → booked → collected; the allowance shrinks', async ({
    db,
  }) => {
    const meter = makeMeter(db)
    const { orgId } = await activeOrg(db, { allowance: 50_000n })
    await meter.meter({ orgId, action: 'claim_issue' })
    await meter.meter({ orgId, action: 'save_comment' })
    const [charge] = await bookCharges(db, { orgId })
    expect(charge).toMatchObject({ seq: 1, amount: 12_000n, status: 'booked', windowIndex: 0 })
    expect(await getBillingSummary(db, orgId)).toMatchObject({
      accrued: 0n,
      booked: 12_000n,
      remaining: 38_000n,
    })
    await markChargeCollected(db, { chargeId: charge!.id, txHash: '0xabc' })
    expect(await getBillingSummary(db, orgId)).toMatchObject({
      booked: 0n,
      drawn: 12_000n,
      cap: 50_000n,
      remaining: 38_000n,
    })
    const lines = await listLedgerEntries(db, { orgId })
    expect(lines.map((l) => l.kind)).toEqual([
      'charge_collected',
      'charge_booked',
      'usage_billable',
      'usage_billable',
      'voucher_grant',
    ])
    expect(lines[0]).toMatchObject({ collectedAfter: 12_000n, bookedAfter: 0n })
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await meter.close()
  })
})
