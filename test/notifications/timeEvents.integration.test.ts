import { getAddress } from 'viem'
import type { Db } from '../../src/db/client.js'
import { setBudget } from '../../src/ledger/budgets.js'
import { emitBudgetResets } from '../../src/notifications/emitBudgetResets.js'
import { emitExpiringPermits } from '../../src/notifications/emitExpiringPermits.js'
import { emitOperatorEthLow } from '../../src/notifications/emitOperatorEthLow.js'
import { listEvents } from '../../src/notifications/events.js'
import {
  dropHeldAuthorization,
  holdAuthorization,
  markHeldSubmitted,
} from '../../src/subscriptions/heldAuthorizations.js'
import { describe, expect, test } from '../fixtures.js'
import { activeOrg, makeMeter, newOrg } from '../ledger/helpers.js'

const typed = async (db: Db, orgId: string, type: string) =>
  (await listEvents(db, { orgId, after: 0n, types: [type], limit: 500 })).map((e) => ({
    id: e.id,
    subscription_id: e.subscription_id,
    data: e.data,
  }))
const refused = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code: string }) => e.code,
  )
const HOUR = 3_600_000_000n
const DAY = 24n * HOUR

describe('events the clock causes', () => {
  test('the monthly limit reached, then its window over: budget.reset once, by the worker or by metering', async ({
    db,
  }) => {
    const start = BigInt(Date.now()) * 1000n
    const reach = async () => {
      const org = await activeOrg(db, {
        allowance: 1_000_000n,
        monthlyLimit: 10_000n,
        windowSeconds: 3600,
      })
      let now = start
      const meter = makeMeter(db, () => now)
      const codes = []
      for (let i = 0; i < 3; i++)
        codes.push(await refused(meter.meter({ orgId: org.orgId, action: 'save_comment' })))
      expect(codes).toEqual(['ok', 'ok', 'SPEND_CAP_REACHED'])
      return { ...org, meter, next: () => (now = start + HOUR + 1_000_000n) }
    }
    // Time alone: the worker finds it (not before the window ends), once.
    const a = await reach()
    expect(await emitBudgetResets(db, new Date(Number(start / 1000n)))).toBe(0)
    const later = new Date(Number((start + HOUR + 2_000_000n) / 1000n))
    expect(await emitBudgetResets(db, later)).toBe(1)
    expect(await emitBudgetResets(db, later)).toBe(0)
    a.next()
    expect(await refused(a.meter.meter({ orgId: a.orgId, action: 'save_comment' }))).toBe('ok')
    const resets = await typed(db, a.orgId, 'budget.reset')
    expect(resets).toEqual([
      {
        id: expect.stringMatching(/^evt_[0-9a-f]{32}$/),
        subscription_id: a.subscriptionId,
        data: {
          scope: 'subscription',
          period: 'month',
          cause: 'window',
          limit_micros: '10000',
          window_index: 1,
        },
      },
    ])
    // Metering first: the call that opens the new window writes it, in its transaction.
    const b = await reach()
    b.next()
    expect(await refused(b.meter.meter({ orgId: b.orgId, action: 'save_comment' }))).toBe('ok')
    const byMeter = await typed(db, b.orgId, 'budget.reset')
    expect(byMeter.map((e) => e.data)).toEqual([resets[0]!.data])
    expect(await emitBudgetResets(db, later)).toBe(0)
    await a.meter.close()
    await b.meter.close()
  })

  test('a spend budget: a reached day rolls over, and a lower override runs out, each once', async ({
    db,
  }) => {
    const D0 = BigInt(Date.UTC(2026, 11, 2)) * 1000n
    // The day rolls over.
    const { orgId } = await activeOrg(db, { allowance: 100_000_000n })
    let now = D0 + 10n * HOUR
    const meter = makeMeter(db, () => now)
    await setBudget(db, { orgId, period: 'day', limitMicros: 10_000n, by: 't', now })
    for (let i = 0; i < 2; i++) await meter.meter({ orgId, action: 'save_comment' })
    expect(await refused(meter.meter({ orgId, action: 'save_comment' }))).toBe('SPEND_CAP_REACHED')
    expect(await emitBudgetResets(db, new Date(Number((D0 + 23n * HOUR) / 1000n)))).toBe(0)
    expect(await emitBudgetResets(db, new Date(Number((D0 + DAY + HOUR) / 1000n)))).toBe(1)
    now = D0 + DAY + 2n * HOUR
    await meter.meter({ orgId, action: 'save_comment' })
    expect((await typed(db, orgId, 'budget.reset')).map((e) => e.data)).toEqual([
      { scope: 'org', key_id: null, period: 'day', cause: 'window', limit_micros: '10000' },
    ])
    // Metering alone into the next day also says it (same event, from the budgets trigger).
    await meter.meter({ orgId, action: 'save_comment' })
    now = D0 + 2n * DAY + HOUR
    await meter.meter({ orgId, action: 'save_comment' })
    expect(await typed(db, orgId, 'budget.reset')).toHaveLength(2)
    await meter.close()

    // A lower override, reached, runs out under a limit with room.
    const o = await activeOrg(db, { allowance: 100_000_000n })
    let t = D0 + 10n * HOUR
    const m2 = makeMeter(db, () => t)
    const until = new Date(Number((D0 + 12n * HOUR) / 1000n))
    await setBudget(db, {
      orgId: o.orgId,
      period: 'day',
      limitMicros: 100_000n,
      override: { limitMicros: 5_000n, until },
      by: 't',
      now: t,
    })
    await m2.meter({ orgId: o.orgId, action: 'save_comment' })
    expect(await refused(m2.meter({ orgId: o.orgId, action: 'save_comment' }))).toBe(
      'SPEND_CAP_REACHED',
    )
    expect(await emitBudgetResets(db, new Date(Number((D0 + 11n * HOUR) / 1000n)))).toBe(0)
    expect(await emitBudgetResets(db, new Date(Number((D0 + 13n * HOUR) / 1000n)))).toBe(1)
    expect(await emitBudgetResets(db, new Date(Number((D0 + 14n * HOUR) / 1000n)))).toBe(0)
    t = D0 + 13n * HOUR
    expect(await refused(m2.meter({ orgId: o.orgId, action: 'save_comment' }))).toBe('ok')
    expect((await typed(db, o.orgId, 'budget.reset')).map((e) => e.data)).toEqual([
      {
        scope: 'org',
        key_id: null,
        period: 'day',
        cause: 'override_expired',
        limit_micros: '100000',
      },
    ])
    await m2.close()
  })

  test('a held permit within 7 days of its deadline: permit.expiring once; far, submitted or dropped: nothing', async ({
    db,
  }) => {
    const now = new Date()
    const unix = BigInt(Math.floor(now.getTime() / 1000))
    const hold = async (deadline: bigint) => {
      const org = await newOrg(db, 0n)
      await holdAuthorization(db, {
        ...org,
        auth: {
          owner: getAddress('0x00000000000000000000000000000000000000aa'),
          permit: { value: 1_000_000n, deadline, nonce: 0n, signature: '0x01' },
          terms: undefined,
        },
      })
      return org
    }
    const soon = await hold(unix + 6n * 86_400n)
    const far = await hold(unix + 30n * 86_400n)
    const past = await hold(unix - 60n)
    const submitted = await hold(unix + 86_400n)
    await markHeldSubmitted(db, { subscriptionId: submitted.subscriptionId, txHash: '0x01' })
    const dropped = await hold(unix + 86_400n)
    await dropHeldAuthorization(db, { subscriptionId: dropped.subscriptionId, reason: 'test' })
    expect(await emitExpiringPermits(db, now)).toBeGreaterThanOrEqual(1)
    expect(await emitExpiringPermits(db, now)).toBe(0)
    const deadline = new Date(Number(unix + 6n * 86_400n) * 1000).toISOString().replace('.000', '')
    expect(await typed(db, soon.orgId, 'permit.expiring')).toEqual([
      {
        id: expect.stringMatching(/^evt_/),
        subscription_id: soon.subscriptionId,
        data: { deadline, deadline_unix: (unix + 6n * 86_400n).toString() },
      },
    ])
    for (const o of [far, past, submitted, dropped])
      expect(await typed(db, o.orgId, 'permit.expiring')).toEqual([])
    // A re-signed permit (a new nonce) that also nears its deadline is told again, once.
    await holdAuthorization(db, {
      ...soon,
      auth: {
        owner: getAddress('0x00000000000000000000000000000000000000aa'),
        permit: { value: 1_000_000n, deadline: unix + 5n * 86_400n, nonce: 1n, signature: '0x02' },
        terms: undefined,
      } as unknown as Parameters<typeof holdAuthorization>[1]['auth'],
    })
    await emitExpiringPermits(db, now)
    expect(await typed(db, soon.orgId, 'permit.expiring')).toHaveLength(2)
  })

  test('operator ETH below the threshold: operator.eth_low to the operator org, once a day', async ({
    db,
  }) => {
    const { orgId } = await newOrg(db, 0n)
    const other = await newOrg(db, 0n)
    const p = {
      address: '0x00000000000000000000000000000000000000Bb',
      thresholdWei: 5_000_000_000_000_000n,
      orgId,
    }
    const day1 = new Date('2026-12-03T10:00:00Z')
    expect(await emitOperatorEthLow(db, { ...p, wei: 6_000_000_000_000_000n, now: day1 })).toBe(
      false,
    )
    expect(await emitOperatorEthLow(db, { ...p, wei: 4_000_000_000_000_000n, now: day1 })).toBe(
      true,
    )
    expect(await emitOperatorEthLow(db, { ...p, wei: 3_000_000_000_000_000n, now: day1 })).toBe(
      false,
    )
    const day2 = new Date('2026-12-04T10:00:00Z')
    expect(await emitOperatorEthLow(db, { ...p, wei: 3_000_000_000_000_000n, now: day2 })).toBe(
      true,
    )
    expect((await typed(db, orgId, 'operator.eth_low')).map((e) => e.data)).toEqual([
      {
        address: p.address,
        balance_wei: '4000000000000000',
        threshold_wei: p.thresholdWei.toString(),
      },
      {
        address: p.address,
        balance_wei: '3000000000000000',
        threshold_wei: p.thresholdWei.toString(),
      },
    ])
    expect(await typed(db, other.orgId, 'operator.eth_low')).toEqual([])
  })
})
