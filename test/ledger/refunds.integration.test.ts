import {
  type bookCharges,
  getBillingSummary,
  listCharges,
  markChargeCollected,
  reconcileCharges,
  reconcileLedger,
  refund,
} from '../../src/ledger/index.js'
import { setSubscriptionState } from '../../src/subscriptions/state/authorizeSubscription.js'
import { describe, expect, test } from '../fixtures.js'
import { answeredRejection } from '../support/answered.js'
import { chargedOrg, makeMeter } from './helpers.js'

type Db = Parameters<typeof bookCharges>[0]

const clean = async (db: Db, orgId: string) => {
  expect(await reconcileLedger(db, { orgId })).toEqual([])
  expect(await reconcileCharges(db, { orgId })).toEqual([])
}

const entries = (db: Db, orgId: string) =>
  db.$client<{ kind: string; amount: bigint; accrued_after: bigint; booked_after: bigint }[]>`
    select kind, amount, accrued_after, booked_after from ledger_entries
    where org_id = ${orgId} and kind like 'refund%' order by seq`

describe('refunds and credit notes', () => {
  test('a refund of a booked charge nets against it: the charge is smaller by exactly the refund; a retry applies it once', async ({
    db,
  }) => {
    const org = await chargedOrg(db, 4) // one charge of 20,000
    const p = {
      chargeId: org.charge.id,
      amount: 7_000n,
      reason: 'job failed',
      actor: 'ops@test',
      idempotencyKey: 'r-1',
    }
    const first = await refund(db, p)
    expect(first).toMatchObject({
      amountMicros: '7000',
      nettedMicros: '7000',
      owedOnchainMicros: '0',
      status: 'netted',
      replayed: false,
    })
    const again = await refund(db, p)
    expect(again).toEqual({ ...first, replayed: true })
    // Same key, other request: refused, nothing more refunded.
    await expect(refund(db, { ...p, amount: 1n })).rejects.toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
    })
    const [c] = await listCharges(db, { orgId: org.orgId })
    expect(c!.amount).toBe(13_000n)
    expect(await entries(db, org.orgId)).toEqual([
      { kind: 'refund_booked', amount: -7_000n, accrued_after: 0n, booked_after: 13_000n },
    ])
    expect(await getBillingSummary(db, org.orgId)).toMatchObject({ booked: 13_000n })
    await clean(db, org.orgId)
  })

  test('more than was charged (less what was refunded) is refused with a stable code; usage lines are refunded once', async ({
    db,
  }) => {
    const org = await chargedOrg(db, 4)
    const base = { reason: 'goodwill', actor: 'ops@test' }
    await expect(
      answeredRejection(
        refund(db, { ...base, chargeId: org.charge.id, amount: 20_001n, idempotencyKey: 'x-1' }),
      ),
    ).rejects.toMatchObject({
      code: 'REFUND_EXCEEDS_CHARGED',
      status: 422,
      details: { charged_micros: '20000', refunded_micros: '0', asked_micros: '20001' },
    })
    // Two lines (10,000), then the charge's rest: 10,000 is all that is left.
    const lines = await refund(db, {
      ...base,
      usageIds: org.usageIds.slice(0, 2),
      idempotencyKey: 'x-2',
    })
    expect(lines.amountMicros).toBe('10000')
    await expect(
      refund(db, { ...base, usageIds: [org.usageIds[1]!], idempotencyKey: 'x-3' }),
    ).rejects.toMatchObject({ code: 'REFUND_EXCEEDS_CHARGED' })
    await expect(
      refund(db, { ...base, chargeId: org.charge.id, amount: 10_001n, idempotencyKey: 'x-4' }),
    ).rejects.toMatchObject({
      code: 'REFUND_EXCEEDS_CHARGED',
      details: { refunded_micros: '10000' },
    })
    const rest = await refund(db, { ...base, chargeId: org.charge.id, idempotencyKey: 'x-5' })
    // The booked charge keeps 1 micro-credit (the collector takes no zero pull): 1 is owed on-chain.
    expect(rest).toMatchObject({
      amountMicros: '10000',
      nettedMicros: '9999',
      owedOnchainMicros: '1',
    })
    await expect(
      refund(db, { ...base, chargeId: org.charge.id, amount: 1n, idempotencyKey: 'x-6' }),
    ).rejects.toMatchObject({ code: 'REFUND_EXCEEDS_CHARGED' })
    // Uncharged usage is voided, not refunded; bad input is a 400.
    const meter = makeMeter(db)
    const loose = await meter.meter({ orgId: org.orgId, action: 'save_comment' })
    await meter.close()
    await expect(
      answeredRejection(refund(db, { ...base, usageIds: [loose.usageId], idempotencyKey: 'x-7' })),
    ).rejects.toMatchObject({ code: 'REFUND_NOT_CHARGED', status: 409 })
    await expect(
      refund(db, { ...base, chargeId: org.charge.id, amount: 0n, idempotencyKey: 'x-8' }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' })
    await expect(
      refund(db, { ...base, reason: ' ', chargeId: org.charge.id, idempotencyKey: 'x-9' }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' })
    await clean(db, org.orgId)
  })

  test('a collected charge nets against what accrued since (booked for it); after cancel all of it is owed on-chain', async ({
    db,
  }) => {
    const org = await chargedOrg(db, 4)
    await markChargeCollected(db, { chargeId: org.charge.id, txHash: `0x${'ab'.repeat(32)}` })
    const meter = makeMeter(db)
    for (let i = 0; i < 3; i++) await meter.meter({ orgId: org.orgId, action: 'save_comment' })
    await meter.close()
    // 15,000 accrued is booked into a charge, and a 20,000 refund nets 14,999 of it (the charge
    // keeps 1 micro-credit for its pull): 5,001 is left to pay back on-chain.
    const r = await refund(db, {
      chargeId: org.charge.id,
      reason: 'outage',
      actor: 'ops@test',
      idempotencyKey: 'c-1',
    })
    expect(r).toMatchObject({
      nettedMicros: '14999',
      owedOnchainMicros: '5001',
      status: 'owed_onchain',
    })
    const [next] = await listCharges(db, { orgId: org.orgId })
    expect(next).toMatchObject({ status: 'booked', amount: 1n })
    expect(await getBillingSummary(db, org.orgId)).toMatchObject({
      accrued: 0n,
      booked: 1n,
      collected: 20_000n,
    })
    await clean(db, org.orgId)

    const other = await chargedOrg(db, 2)
    await markChargeCollected(db, { chargeId: other.charge.id, txHash: `0x${'cd'.repeat(32)}` })
    await setSubscriptionState(db, {
      subscriptionId: other.subscriptionId,
      to: 'canceled',
      cause: 'owner',
      reason: 'test',
    })
    const after = await refund(db, {
      chargeId: other.charge.id,
      reason: 'closing',
      actor: 'ops@test',
      idempotencyKey: 'c-2',
    })
    expect(after).toMatchObject({ nettedMicros: '0', owedOnchainMicros: '10000' })
    expect((await entries(db, other.orgId)).map((e) => [e.kind, e.amount])).toEqual([
      ['refund_owed', 0n],
    ])
    await clean(db, other.orgId)
  })
})
