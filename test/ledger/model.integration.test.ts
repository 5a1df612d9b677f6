import fc from 'fast-check'
import {
  authorizeSubscription,
  bookCharges,
  commitUsage,
  expireReservations,
  getBillingSummary,
  listCharges,
  markChargeCollected,
  markChargeFailed,
  reconcileLedger,
  setSubscriptionState,
  voidUsage,
} from '../../src/ledger/index.js'
import { describe, expect, test } from '../fixtures.js'
import { config, makeMeter, newOrg } from './helpers.js'

// A model-based test: random sequences of meter / reserve / commit / void / expiry / window
// rollover / state change / booking / collection / failed pull run against the real ledger
// (PostgreSQL, the batcher, the gate)
// and against this small in-memory model, written separately from the engine. After every
// step the decisions must agree, and at the end the balances must, to the micro-credit.

const prices = config.rateCard.prices
const actions = [
  'claim_issue',
  'save_comment',
  'save_issue.edit_title',
  'release_issue',
  'heartbeat',
] as const
const WINDOW = BigInt(config.billing.windowSeconds) * 1_000_000n

type Hold = {
  usageId: string
  qty: number
  unit: bigint
  voucher: bigint
  billable: bigint
  window: number
}
type Model = {
  state: 'pending' | 'active' | 'needs_reauth' | 'lapsed'
  voucher: bigint
  accrued: bigint
  booked: bigint
  allowance: bigint
  limit: bigint | null
  spent: Map<number, bigint>
  window: number
  holds: Hold[]
}

type Cmd =
  | { t: 'meter' | 'reserve'; action: (typeof actions)[number]; qty: number }
  | { t: 'commit'; pick: number; used: number }
  | { t: 'void' | 'expire'; pick: number }
  | { t: 'rollover' }
  | { t: 'authorize'; allowance: bigint; limit: bigint | null }
  | { t: 'lapse' }
  | { t: 'book' | 'collect' | 'fail' }

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('meter' as const),
      action: fc.constantFrom(...actions),
      qty: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('reserve' as const),
      action: fc.constantFrom(...actions),
      qty: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('commit' as const),
      pick: fc.nat(),
      used: fc.nat({ max: 4 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constantFrom('void' as const, 'expire' as const),
      pick: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('rollover' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('authorize' as const),
      allowance: fc.oneof(
        fc.constantFrom(0n, 10_000n, 30_000n, 60_000n),
        fc.bigInt({ min: 0n, max: 60_000n }),
      ),
      limit: fc.oneof(
        fc.constantFrom(null, 10_000n, 25_000n),
        fc.bigInt({ min: 0n, max: 30_000n }),
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('lapse' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constantFrom('book' as const, 'collect' as const, 'fail' as const),
    }),
  },
)

/** The model's gate: what should happen to `total` micro-credits of paid work. */
function modelDecide(m: Model, action: string, total: bigint) {
  const held = m.holds.reduce((s, h) => s + h.voucher, 0n)
  const free = m.voucher - held
  const refuse = (code: string) => {
    if (action === 'mint_session_key') return { ok: true as const, voucher: 0n, billable: 0n }
    return { ok: false as const, code }
  }
  if (m.state === 'pending')
    return free >= total
      ? { ok: true as const, voucher: total, billable: 0n }
      : refuse('BILLING_INACTIVE')
  if (m.state !== 'active') return refuse('BILLING_INACTIVE')
  const voucher = free < total ? free : total
  const billable = total - voucher
  if (billable > 0n) {
    const heldB = m.holds.reduce((s, h) => s + h.billable, 0n)
    if (billable > m.allowance - m.booked - m.accrued - heldB) {
      m.state = 'needs_reauth'
      return refuse('BILLING_INACTIVE')
    }
    if (m.limit !== null && billable > m.limit - (m.spent.get(m.window) ?? 0n))
      return refuse('SPEND_CAP_REACHED')
  }
  return { ok: true as const, voucher, billable }
}

describe('the ledger agrees with a model', () => {
  test('random command sequences (fast-check, 500 runs against PostgreSQL)', async ({ db }) => {
    let clock = 0n
    const meter = makeMeter(db, () => clock)
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0n, 5_000n, 12_000n, 30_000n),
        fc.array(cmd, { minLength: 1, maxLength: 14 }),
        async (credit, cmds) => {
          clock = BigInt(Date.now()) * 1000n
          const { orgId, subscriptionId } = await newOrg(db, credit)
          const m: Model = {
            state: 'pending',
            voucher: credit,
            accrued: 0n,
            booked: 0n,
            allowance: 0n,
            limit: null,
            spent: new Map(),
            window: 0,
            holds: [],
          }
          let authorizedAt: bigint | null = null
          for (const c of cmds) {
            if (c.t === 'meter' || c.t === 'reserve') {
              const unit = prices[c.action]!
              const expected = modelDecide(m, c.action, unit * BigInt(c.qty))
              const real = await (c.t === 'meter'
                ? meter.meter({ orgId, action: c.action, quantity: c.qty })
                : meter.reserve({ orgId, action: c.action, quantity: c.qty, ttlSeconds: 60 })
              ).then(
                (o) => ({ ok: true as const, o }),
                (e: { code: string }) => ({ ok: false as const, code: e.code }),
              )
              expect(real.ok).toBe(expected.ok)
              if (!real.ok || !expected.ok) {
                if (!real.ok && !expected.ok) expect(real.code).toBe(expected.code)
                continue
              }
              expect([BigInt(real.o.voucherMicros), BigInt(real.o.billableMicros)]).toEqual([
                expected.voucher,
                expected.billable,
              ])
              if (expected.billable > 0n)
                m.spent.set(m.window, (m.spent.get(m.window) ?? 0n) + expected.billable)
              if (c.t === 'meter') {
                m.voucher -= expected.voucher
                m.accrued += expected.billable
              } else {
                m.holds.push({
                  usageId: real.o.usageId,
                  qty: c.qty,
                  unit,
                  voucher: expected.voucher,
                  billable: expected.billable,
                  window: m.window,
                })
              }
            } else if (c.t === 'commit' && m.holds.length > 0) {
              const h = m.holds.splice(c.pick % m.holds.length, 1)[0]!
              const used = Math.min(c.used, h.qty)
              await commitUsage(db, { orgId, usageId: h.usageId, quantity: used })
              const total = h.unit * BigInt(used)
              const v = total < h.voucher ? total : h.voucher
              m.voucher -= v
              m.accrued += total - v
              if (h.window === m.window)
                m.spent.set(m.window, (m.spent.get(m.window) ?? 0n) - (h.billable - (total - v)))
            } else if ((c.t === 'void' || c.t === 'expire') && m.holds.length > 0) {
              if (c.t === 'void') {
                const h = m.holds.splice(c.pick % m.holds.length, 1)[0]!
                await voidUsage(db, { orgId, usageId: h.usageId })
                if (h.window === m.window)
                  m.spent.set(m.window, (m.spent.get(m.window) ?? 0n) - h.billable)
              } else {
                // Everything reserved more than its 60 s ago expires.
                await expireReservations(db, { orgId, now: clock + 61_000_000n })
                for (const h of m.holds)
                  if (h.window === m.window)
                    m.spent.set(m.window, (m.spent.get(m.window) ?? 0n) - h.billable)
                m.holds = []
              }
            } else if (c.t === 'rollover' && authorizedAt !== null) {
              clock += WINDOW
              m.window += 1
            } else if (c.t === 'authorize') {
              await authorizeSubscription(db, {
                orgId,
                subscriptionId,
                owner: '0x00000000000000000000000000000000000000aa',
                allowance: c.allowance,
                monthlyLimit: c.limit,
              })
              if (authorizedAt === null) {
                // Windows start at the first authorization (database time); align the clocks.
                const [row] = await db.$client<{ s: bigint }[]>`
                select (extract(epoch from window_start) * 1000000)::int8 as s from subscriptions where id = ${subscriptionId}`
                authorizedAt = row!.s
                clock = authorizedAt + 1n
              }
              m.state = 'active'
              m.allowance = c.allowance
              m.limit = c.limit
            } else if (c.t === 'book') {
              const booked = await bookCharges(db, { orgId })
              expect(booked.reduce((x, ch) => x + ch.amount, 0n)).toBe(m.accrued)
              m.booked += m.accrued
              m.accrued = 0n
            } else if (c.t === 'collect' || c.t === 'fail') {
              const open = (await listCharges(db, { orgId }))
                .filter((ch) => ch.status === 'booked' || ch.status === 'failed')
                .sort((x, y) => x.seq - y.seq)
              const charge = open[0]
              if (!charge) continue
              if (c.t === 'fail') {
                // A failed pull leaves the charge owed: nothing moves.
                await markChargeFailed(db, { chargeId: charge.id, reason: 'balance' })
              } else {
                await markChargeCollected(db, { chargeId: charge.id, txHash: `0x${charge.seq}` })
                m.booked -= charge.amount
                m.allowance -= charge.amount
              }
            } else if (c.t === 'lapse' && m.state !== 'pending') {
              await setSubscriptionState(db, {
                subscriptionId,
                to: 'lapsed',
                cause: 'chain',
                reason: 'model',
              })
              m.state = 'lapsed'
            }
          }
          const s = await getBillingSummary(db, orgId)
          const heldV = m.holds.reduce((x, h) => x + h.voucher, 0n)
          const heldB = m.holds.reduce((x, h) => x + h.billable, 0n)
          expect({
            state: s.state,
            credit: s.signupCredit,
            accrued: s.accrued,
            reserved: s.reserved,
            booked: s.booked,
            remaining: s.remaining,
          }).toEqual({
            state: m.state,
            credit: m.voucher - heldV,
            accrued: m.accrued,
            reserved: heldB,
            booked: m.booked,
            remaining: (() => {
              const r = m.allowance - m.booked - m.accrued - heldB
              return r > 0n ? r : 0n
            })(),
          })
          expect(await reconcileLedger(db, { orgId })).toEqual([])
        },
      ),
      // The pure core runs 1,000 sequences in src/ledger/movements.test.ts; these go end to end.
      { numRuns: 500 },
    )
    // Both ways of deciding a batch were checked against the model: on cached accounts, and on
    // locked rows after a cached try found its rows changed (a commit, void, expiry or state change).
    expect(meter.stats.cached).toBeGreaterThan(0)
    expect(meter.stats.stale).toBeGreaterThan(0)
    await meter.close()
  }, 240_000)
})
