import fc from 'fast-check'
import {
  bookCharges,
  commitUsage,
  creditPrepaid,
  expireReservations,
  getBillingSummary,
  listCharges,
  markChargeCollected,
  markChargeFailed,
  reconcileCharges,
  reconcileLedger,
  refund,
  setBudget,
  setPlan,
  showPlan,
  voidUsage,
} from '../../src/ledger/index.js'
import {
  authorizeSubscription,
  setSubscriptionState,
} from '../../src/subscriptions/state/authorizeSubscription.js'
import { describe, expect, test } from '../fixtures.js'
import { config, makeMeter, newKey, newOrg } from './helpers.js'

// A model-based test: random sequences of meter / reserve / commit / void / expiry / window
// rollover / state change / booking / collection / failed pull run against the real ledger
// (PostgreSQL, the batcher, the gate)
// and against this small in-memory model, written separately from the engine. After every
// step the decisions must agree, and at the end the balances must, to the micro-credit.
// Budgets (a day budget on the key and on the org, with overrides that run out as the clock
// ticks across a UTC midnight) and refunds (netted against booked charges) are in it too, and
// so are a plan's included monthly allowance (set and changed; the window rollover crosses a
// UTC month, which renews it), its units of one action (`save_comment`, drawn before any credit
// by that action only; a quantity past them is split) and prepaid top-ups and bonuses (credit
// drawn after the plan).

/** The action a plan's units are of. */
const UNIT_ACTION = 'save_comment'

const prices = config.rateCard.prices
const actions = [
  'claim_issue',
  'save_comment',
  'save_issue.edit_title',
  'release_issue',
  'heartbeat',
] as const
const WINDOW = BigInt(config.billing.windowSeconds) * 1_000_000n
const DAY = 86_400_000_000n
const dayOf = (t: bigint) => t / DAY
/** The UTC calendar month `t` falls in, as its first microsecond. */
const monthOf = (t: bigint) => {
  const d = new Date(Number(t / 1000n))
  return BigInt(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)) * 1000n
}

type Hold = {
  usageId: string
  keyed: boolean
  day: bigint
  use: ModelUsage
  qty: number
  unit: bigint
  voucher: bigint
  included: bigint
  /** Units of `UNIT_ACTION` the plan covered. */
  units: number
  prepaid: bigint
  billable: bigint
  window: number
  /** The UTC month its included part (and units) were drawn from. */
  month: bigint
}
type ModelBudget = {
  keyed: boolean
  limit: bigint
  override: bigint | null
  until: bigint | null
  day: bigint
  spent: bigint
}
/** A usage row, for what a budget set later counts of its day (voucher and billable). */
type ModelUsage = { keyed: boolean; day: bigint; amount: bigint; live: boolean }
type ModelCharge = {
  id: string
  seq: number
  amount: bigint
  charged: bigint
  refunded: bigint
  status: 'booked' | 'failed' | 'collected'
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
  /** The prepaid balance, holds included. */
  prepaid: bigint
  /**
   * The plan: included each month (null: none), and what the month `month` used (holds too);
   * units of `UNIT_ACTION` a month (null: none) and what the same month drew of them.
   */
  plan: {
    monthly: bigint | null
    month: bigint
    used: bigint
    units: number | null
    unitsUsed: number
  }
}

type Cmd =
  | { t: 'meter' | 'reserve'; action: (typeof actions)[number]; qty: number; keyed: boolean }
  | { t: 'commit'; pick: number; used: number }
  | { t: 'void' | 'expire'; pick: number }
  | { t: 'rollover' }
  | { t: 'authorize'; allowance: bigint; limit: bigint | null }
  | { t: 'lapse' }
  | { t: 'book' | 'collect' | 'fail' }
  | {
      t: 'budget'
      keyed: boolean
      limit: bigint
      override: { limit: bigint; seconds: number } | null
    }
  | { t: 'tick'; seconds: number }
  | { t: 'refund'; pick: number; part: bigint | null }
  | { t: 'plan'; monthly: bigint | null; units: number | null }
  | { t: 'credit'; source: 'topup' | 'bonus'; amount: bigint }

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('plan' as const),
      monthly: fc.option(
        fc.oneof(fc.constantFrom(0n, 7_000n, 20_000n), fc.bigInt({ min: 0n, max: 40_000n })),
      ),
      units: fc.option(fc.oneof(fc.constantFrom(0, 1, 2, 5), fc.integer({ min: 0, max: 8 }))),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('credit' as const),
      source: fc.constantFrom('topup' as const, 'bonus' as const),
      amount: fc.oneof(fc.constantFrom(5_000n, 10_000n), fc.bigInt({ min: 1n, max: 20_000n })),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('meter' as const),
      action: fc.constantFrom(...actions),
      qty: fc.integer({ min: 1, max: 3 }),
      keyed: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('reserve' as const),
      action: fc.constantFrom(...actions),
      qty: fc.integer({ min: 1, max: 4 }),
      keyed: fc.boolean(),
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
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('budget' as const),
      keyed: fc.boolean(),
      limit: fc.oneof(fc.constantFrom(0n, 10_000n, 21_000n), fc.bigInt({ min: 0n, max: 40_000n })),
      override: fc.option(
        fc.record({
          limit: fc.bigInt({ min: 0n, max: 60_000n }),
          seconds: fc.constantFrom(1, 30, 90),
        }),
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('tick' as const), seconds: fc.constantFrom(20, 45) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('refund' as const),
      pick: fc.nat(),
      part: fc.option(fc.bigInt({ min: 1n, max: 40_000n })),
    }),
  },
)

/** A budget's limit at `now`, and what it counted in `now`'s day. */
const limitAt = (b: ModelBudget, now: bigint) =>
  b.override !== null && b.until !== null && now < b.until ? b.override : b.limit
const spentAt = (b: ModelBudget, now: bigint) => (b.day === dayOf(now) ? b.spent : 0n)
const appliesTo = (b: ModelBudget, keyed: boolean) => !b.keyed || keyed

/** What is left of the plan's allowance at `now`. */
const planLeft = (m: Model, now: bigint) => {
  if (m.plan.monthly === null) return 0n
  const used = m.plan.month === monthOf(now) ? m.plan.used : 0n
  return m.plan.monthly > used ? m.plan.monthly - used : 0n
}

/** Units of `UNIT_ACTION` the plan has left at `now`. */
const unitsLeft = (m: Model) => (now: bigint) => {
  if (m.plan.units === null) return 0
  const used = m.plan.month === monthOf(now) ? m.plan.unitsUsed : 0
  return m.plan.units > used ? m.plan.units - used : 0
}

type Split = {
  ok: true
  units: number
  voucher: bigint
  included: bigint
  prepaid: bigint
  billable: bigint
}

/** The model's gate: what should happen to `qty` of `action` at `unit` each, at `now`. */
function modelDecide(
  m: Model,
  action: string,
  unit: bigint,
  qty: number,
  now: bigint,
): Split | { ok: false; code: string } {
  const free = m.voucher - m.holds.reduce((s, h) => s + h.voucher, 0n)
  const freePrepaid = m.prepaid - m.holds.reduce((s, h) => s + h.prepaid, 0n)
  const refuse = (code: string) => {
    if (action === 'mint_session_key')
      return { ok: true as const, units: 0, voucher: 0n, included: 0n, prepaid: 0n, billable: 0n }
    return { ok: false as const, code }
  }
  // The plan's units of the action (while pending or active), then the voucher, then the plan's
  // micro-credits (on the same terms), then the prepaid balance (any state).
  const good = m.state === 'pending' || m.state === 'active'
  const left = good && action === UNIT_ACTION ? unitsLeft(m)(now) : 0
  const units = Math.min(left, qty)
  const total = unit * BigInt(qty - units)
  const take = (have: bigint, want: bigint) => (have < want ? have : want)
  const voucher = good ? take(free, total) : 0n
  const included = good ? take(planLeft(m, now), total - voucher) : 0n
  const prepaid = take(freePrepaid, total - voucher - included)
  const billable = total - voucher - included - prepaid
  if (billable === 0n) return { ok: true as const, units, voucher, included, prepaid, billable }
  if (m.state !== 'active') return refuse('BILLING_INACTIVE')
  const heldB = m.holds.reduce((s, h) => s + h.billable, 0n)
  if (billable > m.allowance - m.booked - m.accrued - heldB) {
    m.state = 'needs_reauth'
    return refuse('BILLING_INACTIVE')
  }
  if (m.limit !== null && billable > m.limit - (m.spent.get(m.window) ?? 0n))
    return refuse('SPEND_CAP_REACHED')
  return { ok: true as const, units, voucher, included, prepaid, billable }
}

/** Counts `amount` drawn from the plan at `now`; gives back to `month` (if still counted). */
function countPlan(m: Model, amount: bigint, units: number, now: bigint) {
  if (amount <= 0n && units <= 0) return
  if (m.plan.month !== monthOf(now))
    m.plan = { ...m.plan, month: monthOf(now), used: 0n, unitsUsed: 0 }
  m.plan.used += amount
  m.plan.unitsUsed += units
}
function uncountPlan(m: Model, amount: bigint, units: number, month: bigint) {
  if (m.plan.month !== month) return
  if (amount > 0n) m.plan.used = m.plan.used > amount ? m.plan.used - amount : 0n
  if (units > 0) m.plan.unitsUsed = m.plan.unitsUsed > units ? m.plan.unitsUsed - units : 0
}

/** Gives a hold's price back to the budgets whose day is still the one it was counted in. */
function uncountBudgets(budgets: ModelBudget[], h: Hold, amount: bigint) {
  for (const b of budgets)
    if (appliesTo(b, h.keyed) && b.day === h.day && amount > 0n)
      b.spent = b.spent > amount ? b.spent - amount : 0n
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
          // A minute and a half before a UTC midnight: ticks cross it, budgets start afresh.
          clock = (dayOf(BigInt(Date.now()) * 1000n) + 1n) * DAY - 90_000_000n
          const { orgId, subscriptionId } = await newOrg(db, credit)
          const keyId = await newKey(db, orgId)
          const budgets: ModelBudget[] = []
          const usage: ModelUsage[] = []
          const charges: ModelCharge[] = []
          let refunds = 0
          let credits = 0
          const m: Model = {
            prepaid: 0n,
            plan: { monthly: null, month: 0n, used: 0n, units: null, unitsUsed: 0 },
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
              let expected: ReturnType<typeof modelDecide> = modelDecide(
                m,
                c.action,
                unit,
                c.qty,
                clock,
              )
              // The budgets narrow what the gate let through: the whole price counts, and what
              // costs nothing (the plan's units covered all of it) is never refused by one.
              if (expected.ok) {
                const price =
                  expected.voucher + expected.included + expected.prepaid + expected.billable
                const over = budgets.some(
                  (b) =>
                    price > 0n &&
                    appliesTo(b, c.keyed) &&
                    spentAt(b, clock) + price > limitAt(b, clock),
                )
                if (over) expected = { ok: false, code: 'SPEND_CAP_REACHED' }
              }
              const k = c.keyed ? keyId : null
              const real = await (c.t === 'meter'
                ? meter.meter({ orgId, keyId: k, action: c.action, quantity: c.qty })
                : meter.reserve({
                    orgId,
                    keyId: k,
                    action: c.action,
                    quantity: c.qty,
                    ttlSeconds: 60,
                  })
              ).then(
                (o) => ({ ok: true as const, o }),
                (e: { code: string }) => ({ ok: false as const, code: e.code }),
              )
              expect(real.ok).toBe(expected.ok)
              if (!real.ok || !expected.ok) {
                if (!real.ok && !expected.ok) expect(real.code).toBe(expected.code)
                continue
              }
              expect([
                real.o.includedUnits ?? 0,
                BigInt(real.o.voucherMicros),
                BigInt(real.o.includedMicros),
                BigInt(real.o.prepaidMicros),
                BigInt(real.o.billableMicros),
              ]).toEqual([
                expected.units,
                expected.voucher,
                expected.included,
                expected.prepaid,
                expected.billable,
              ])
              countPlan(m, expected.included, expected.units, clock)
              if (expected.billable > 0n)
                m.spent.set(m.window, (m.spent.get(m.window) ?? 0n) + expected.billable)
              const price =
                expected.voucher + expected.included + expected.prepaid + expected.billable
              for (const b of budgets) {
                if (!appliesTo(b, c.keyed)) continue
                if (b.day !== dayOf(clock)) {
                  b.day = dayOf(clock)
                  b.spent = 0n
                }
                b.spent += price
              }
              const use = { keyed: c.keyed, day: dayOf(clock), amount: price, live: true }
              usage.push(use)
              if (c.t === 'meter') {
                m.voucher -= expected.voucher
                m.prepaid -= expected.prepaid
                m.accrued += expected.billable
              } else {
                m.holds.push({
                  usageId: real.o.usageId,
                  keyed: c.keyed,
                  day: dayOf(clock),
                  use,
                  qty: c.qty,
                  unit,
                  voucher: expected.voucher,
                  included: expected.included,
                  units: expected.units,
                  prepaid: expected.prepaid,
                  billable: expected.billable,
                  window: m.window,
                  month: monthOf(clock),
                })
              }
            } else if (c.t === 'commit' && m.holds.length > 0) {
              const h = m.holds.splice(c.pick % m.holds.length, 1)[0]!
              const used = Math.min(c.used, h.qty)
              const committed = await commitUsage(db, { orgId, usageId: h.usageId, quantity: used })
              const cap = h.voucher + h.included + h.prepaid + h.billable
              // The units held cover what they can of what was used; the rest is priced.
              const units = Math.min(used, h.units)
              const unit = h.unit * BigInt(used - units)
              const charged = unit < cap ? unit : cap
              const take = (have: bigint, want: bigint) => (have < want ? have : want)
              const v = take(h.voucher, charged)
              const inc = take(h.included, charged - v)
              const pre = take(h.prepaid, charged - v - inc)
              const bill = charged - v - inc - pre
              expect(committed).toMatchObject({
                includedUnits: units,
                voucherMicros: v.toString(),
                includedMicros: inc.toString(),
                prepaidMicros: pre.toString(),
                billableMicros: bill.toString(),
              })
              m.voucher -= v
              m.prepaid -= pre
              m.accrued += bill
              uncountPlan(m, h.included - inc, h.units - units, h.month)
              if (h.window === m.window)
                m.spent.set(m.window, (m.spent.get(m.window) ?? 0n) - (h.billable - bill))
              uncountBudgets(budgets, h, cap - charged)
              h.use.amount = charged
            } else if ((c.t === 'void' || c.t === 'expire') && m.holds.length > 0) {
              if (c.t === 'void') {
                const h = m.holds.splice(c.pick % m.holds.length, 1)[0]!
                await voidUsage(db, { orgId, usageId: h.usageId })
                if (h.window === m.window)
                  m.spent.set(m.window, (m.spent.get(m.window) ?? 0n) - h.billable)
                uncountPlan(m, h.included, h.units, h.month)
                uncountBudgets(budgets, h, h.voucher + h.included + h.prepaid + h.billable)
                h.use.live = false
              } else {
                // Everything reserved more than its 60 s ago expires.
                await expireReservations(db, { orgId, now: clock + 61_000_000n })
                for (const h of m.holds) {
                  if (h.window === m.window)
                    m.spent.set(m.window, (m.spent.get(m.window) ?? 0n) - h.billable)
                  uncountPlan(m, h.included, h.units, h.month)
                  uncountBudgets(budgets, h, h.voucher + h.included + h.prepaid + h.billable)
                  h.use.live = false
                }
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
                // (The clock may be ahead of the database's, by less than a day: window 0 still.)
                if (clock <= authorizedAt) clock = authorizedAt + 1n
              }
              m.state = 'active'
              m.allowance = c.allowance
              m.limit = c.limit
            } else if (c.t === 'book') {
              const booked = await bookCharges(db, { orgId })
              expect(booked.reduce((x, ch) => x + ch.amount, 0n)).toBe(m.accrued)
              m.booked += m.accrued
              m.accrued = 0n
              for (const ch of booked)
                charges.push({ ...ch, charged: ch.amount, refunded: 0n, status: 'booked' })
            } else if (c.t === 'collect' || c.t === 'fail') {
              const charge = charges
                .filter((ch) => ch.status === 'booked' || ch.status === 'failed')
                .sort((x, y) => x.seq - y.seq)[0]
              if (!charge) continue
              if (c.t === 'fail') {
                // A failed pull leaves the charge owed: nothing moves.
                await markChargeFailed(db, { chargeId: charge.id, reason: 'balance' })
                charge.status = 'failed'
              } else {
                // What is pulled is what the model says is left of the charge.
                const c2 = await markChargeCollected(db, {
                  chargeId: charge.id,
                  txHash: `0x${charge.seq}`,
                })
                expect(c2.amount).toBe(charge.amount)
                m.booked -= charge.amount
                m.allowance -= charge.amount
                charge.status = 'collected'
              }
            } else if (c.t === 'budget') {
              const until = c.override
                ? new Date(Number(clock / 1000n) + c.override.seconds * 1000)
                : null
              await setBudget(db, {
                orgId,
                keyId: c.keyed ? keyId : null,
                period: 'day',
                limitMicros: c.limit,
                override: c.override && until ? { limitMicros: c.override.limit, until } : null,
                by: 'model',
                now: clock,
              })
              const next: ModelBudget = {
                keyed: c.keyed,
                limit: c.limit,
                override: c.override?.limit ?? null,
                until: until ? BigInt(until.getTime()) * 1000n : null,
                // A new budget counts what its day already metered; a changed one keeps its count.
                day: dayOf(clock),
                spent: usage
                  .filter((u) => u.live && u.day === dayOf(clock) && (u.keyed || !c.keyed))
                  .reduce((x, u) => x + u.amount, 0n),
              }
              const old = budgets.find((b) => b.keyed === c.keyed)
              if (old)
                Object.assign(old, {
                  limit: next.limit,
                  override: next.override,
                  until: next.until,
                })
              else budgets.push(next)
            } else if (c.t === 'plan') {
              await setPlan(db, {
                orgId,
                includedMonthlyMicros: c.monthly,
                includedActions: c.units === null ? null : { [UNIT_ACTION]: c.units },
                rateCard: config.rateCard,
                now: clock,
              })
              m.plan.monthly = c.monthly
              m.plan.units = c.units
            } else if (c.t === 'credit') {
              await db.$client.begin((tx) =>
                creditPrepaid(tx, {
                  orgId,
                  amount: c.amount,
                  source: c.source,
                  reference: `${orgId}:${credits++}`,
                  at: clock,
                }),
              )
              m.prepaid += c.amount
            } else if (c.t === 'tick') {
              clock += BigInt(c.seconds) * 1_000_000n
            } else if (c.t === 'refund' && charges.length > 0) {
              const target = charges[c.pick % charges.length]!
              const left = target.charged - target.refunded
              const asked = c.part ?? left
              const p = {
                chargeId: target.id,
                amount: c.part ?? undefined,
                reason: 'model',
                actor: 'model',
                idempotencyKey: `r-${refunds++}`,
              }
              if (asked <= 0n || asked > left) {
                await expect(refund(db, p)).rejects.toMatchObject({
                  code: 'REFUND_EXCEEDS_CHARGED',
                })
                continue
              }
              const r = await refund(db, p)
              expect(await refund(db, p)).toEqual({ ...r, replayed: true })
              target.refunded += asked
              // What accrued is booked first, then netted against open charges, newest first,
              // each kept at 1 micro-credit.
              const known = new Set(charges.map((ch) => ch.id))
              const fresh = (await listCharges(db, { orgId })).filter((ch) => !known.has(ch.id))
              expect(fresh.reduce((x, ch) => x + ch.amount, 0n)).toBe(m.accrued)
              for (const ch of fresh)
                charges.push({ ...ch, charged: ch.amount, refunded: 0n, status: 'booked' })
              m.booked += m.accrued
              m.accrued = 0n
              let rest = asked
              for (const ch of [...charges].sort((x, y) => y.seq - x.seq)) {
                if (rest === 0n) break
                if ((ch.status !== 'booked' && ch.status !== 'failed') || ch.amount <= 1n) continue
                const take = rest < ch.amount - 1n ? rest : ch.amount - 1n
                ch.amount -= take
                m.booked -= take
                rest -= take
              }
              expect([r.nettedMicros, r.owedOnchainMicros]).toEqual([
                (asked - rest).toString(),
                rest.toString(),
              ])
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
          const heldP = m.holds.reduce((x, h) => x + h.prepaid, 0n)
          expect(s.prepaid).toBe(m.prepaid - heldP)
          const plan = await showPlan(db, { orgId, now: clock })
          expect([plan.includedMonthlyMicros, plan.remainingMicros]).toEqual([
            m.plan.monthly,
            planLeft(m, clock),
          ])
          expect(plan.units).toEqual(
            m.plan.units === null
              ? []
              : [
                  {
                    action: UNIT_ACTION,
                    included: m.plan.units,
                    used: m.plan.month === monthOf(clock) ? m.plan.unitsUsed : 0,
                    remaining: unitsLeft(m)(clock),
                  },
                ],
          )
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
          const amounts = new Map(
            (await listCharges(db, { orgId })).map((ch) => [ch.id, ch.amount]),
          )
          expect(amounts).toEqual(new Map(charges.map((ch) => [ch.id, ch.amount])))
          expect(await reconcileLedger(db, { orgId })).toEqual([])
          expect(await reconcileCharges(db, { orgId })).toEqual([])
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
