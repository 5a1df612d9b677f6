import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { entriesFor, entryFor, type LockedAccount, type PendingEntry } from './accounts.js'
import { windowIndexAt } from './decide.js'
import {
  balanceOf,
  commitHold,
  type Movement,
  meterStep,
  releaseHold,
  type UsageAmounts,
  voidRecorded,
} from './movements.js'
import { allowedTransitions, type SubscriptionState } from './states.js'

// A model-based test of the ledger's pure core — the gate and every balance movement that
// metering, commit, void and expiry make — against a small in-memory model written from
// docs/design.md's rules, separately from the engine. Random sequences of meter / reserve /
// commit / void / expiry / window rollover / state changes / authorization / booking /
// collection / failed pulls / prepaid credits / billing mode changes; after every step the
// decisions and the balances must agree.
// (test/ledger/model.integration.test.ts runs the same idea through PostgreSQL and the batcher.)

const PRICES = {
  claim_issue: 7_000n,
  save_comment: 5_000n,
  'save_issue.edit_title': 3_000n,
  mint_session_key: 1_000n,
  release_issue: 1_000n,
  checkpoint: 5_000n,
  heartbeat: 100n,
} as const
type Action = keyof typeof PRICES
const ACTIONS = Object.keys(PRICES) as Action[]
const WIND_DOWN = new Set<string>(['heartbeat', 'checkpoint', 'release_issue'])
const WINDOW_SECONDS = 30 * 86_400
const WINDOW = BigInt(WINDOW_SECONDS) * 1_000_000n
const T0 = 1_800_000_000_000_000n

type Lease = 'none' | 'old' | 'recent'
type Cmd =
  | { t: 'meter' | 'reserve'; action: Action; qty: number; lease: Lease }
  | { t: 'commit'; pick: number; used: number }
  | { t: 'void' | 'voidRecorded'; pick: number }
  | { t: 'expire' }
  | { t: 'tick' | 'rollover' }
  | { t: 'authorize'; allowance: bigint; limit: bigint | null }
  | { t: 'state'; to: 'needs_reauth' | 'lapsed' | 'canceled' }
  | { t: 'book' }
  | { t: 'collect' | 'fail' }
  | { t: 'credit'; amount: bigint }
  | { t: 'mode'; mode: 'postpaid' | 'prepaid' }

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constantFrom('meter' as const, 'reserve' as const),
      action: fc.constantFrom(...ACTIONS),
      qty: fc.integer({ min: 1, max: 4 }),
      lease: fc.constantFrom<Lease>('none', 'old', 'recent'),
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
    weight: 2,
    arbitrary: fc.record({
      t: fc.constantFrom('void' as const, 'voidRecorded' as const),
      pick: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'expire' as const }) },
  { weight: 1, arbitrary: fc.constantFrom({ t: 'tick' as const }, { t: 'rollover' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('authorize' as const),
      allowance: fc.oneof(
        fc.constantFrom(0n, 10_000n, 30_000n, 60_000n),
        fc.bigInt({ min: 0n, max: 80_000n }),
      ),
      limit: fc.oneof(
        fc.constantFrom(null, 10_000n, 25_000n),
        fc.bigInt({ min: 0n, max: 40_000n }),
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('state' as const),
      to: fc.constantFrom('needs_reauth' as const, 'lapsed' as const, 'canceled' as const),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'book' as const }) },
  { weight: 1, arbitrary: fc.constantFrom({ t: 'collect' as const }, { t: 'fail' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('credit' as const),
      amount: fc.oneof(
        fc.constantFrom(1n, 100n, 5_000n, 20_000n),
        fc.bigInt({ min: 1n, max: 40_000n }),
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('mode' as const),
      mode: fc.constantFrom('postpaid' as const, 'prepaid' as const),
    }),
  },
)

// ---- the model: docs/design.md's rules, written out plainly ----

type ModelHold = {
  id: number
  unit: bigint
  qty: number
  voucher: bigint
  prepaid: bigint
  billable: bigint
  w: number
}
type ModelUse = {
  id: number
  voucher: bigint
  prepaid: bigint
  billable: bigint
  w: number
  booked: boolean
}
type Model = {
  state: SubscriptionState
  blockedAt: bigint | null
  voucher: bigint
  /** When credit (voucher and prepaid balance) ran out. */
  voucherOutAt: bigint | null
  prepaid: bigint
  credited: bigint
  mode: 'postpaid' | 'prepaid'
  accrued: bigint
  booked: bigint
  collected: bigint
  allowance: bigint
  limit: bigint | null
  authorizedAt: bigint | null
  spent: Map<number, bigint>
  holds: ModelHold[]
  uses: ModelUse[]
  charges: bigint[]
}

type Verdict =
  | { ok: true; voucher: bigint; prepaid: bigint; billable: bigint; free: boolean }
  | { ok: false; code: string; reason?: string }

function modelWindow(m: Model, now: bigint) {
  return m.authorizedAt === null ? 0 : Number((now - m.authorizedAt) / WINDOW)
}

function modelDecide(
  m: Model,
  action: Action,
  total: bigint,
  now: bigint,
  lease: bigint | null,
): Verdict {
  const heldVoucher = m.holds.reduce((s, h) => s + h.voucher, 0n)
  const heldPrepaid = m.holds.reduce((s, h) => s + h.prepaid, 0n)
  const heldBillable = m.holds.reduce((s, h) => s + h.billable, 0n)
  // Credit first: the voucher while in good standing (or prepaid), then the prepaid balance
  // whatever the state; what is left is billable only for a postpaid, active subscription.
  const voucherOk = m.mode === 'prepaid' || m.state === 'pending' || m.state === 'active'
  const freeVoucher = voucherOk ? m.voucher - heldVoucher : 0n
  const voucher = freeVoucher < total ? freeVoucher : total
  const freePrepaid = m.prepaid - heldPrepaid
  // biome-ignore lint/complexity/useMathMinMax: bigints; Math.min takes numbers
  const prepaid = freePrepaid < total - voucher ? freePrepaid : total - voucher
  const billable = total - voucher - prepaid
  const covered = { ok: true as const, voucher, prepaid, billable: 0n, free: false }
  let refusal: { code: string; reason?: string; since: bigint; reauth?: boolean }
  if (billable === 0n && (voucherOk || prepaid > 0n)) return covered
  if (m.mode === 'prepaid') {
    refusal = { code: 'BILLING_INACTIVE', reason: 'no_credit', since: m.voucherOutAt ?? now }
  } else if (m.state === 'pending') {
    refusal = { code: 'BILLING_INACTIVE', reason: 'no_credit', since: m.voucherOutAt ?? now }
  } else if (m.state === 'active') {
    const spent = m.spent.get(modelWindow(m, now)) ?? 0n
    if (billable > m.allowance - m.booked - m.accrued - heldBillable) {
      refusal = { code: 'BILLING_INACTIVE', reason: 'inactive', since: now, reauth: true }
    } else if (m.limit !== null && billable > m.limit - spent) {
      refusal = { code: 'SPEND_CAP_REACHED', since: now }
    } else return { ok: true, voucher, prepaid, billable, free: false }
  } else {
    refusal = { code: 'BILLING_INACTIVE', reason: 'inactive', since: m.blockedAt! }
  }
  const free = { ok: true as const, voucher: 0n, prepaid: 0n, billable: 0n, free: true }
  if (action === 'mint_session_key') return free
  if (WIND_DOWN.has(action) && lease !== null && lease < refusal.since) return free
  // The paid action refused for not fitting the allowance is what moves the subscription.
  if (refusal.reauth) {
    m.state = 'needs_reauth'
    m.blockedAt = now
  }
  return { ok: false, code: refusal.code, ...(refusal.reason ? { reason: refusal.reason } : {}) }
}

// ---- the engine: the ledger's own pure functions on an account row ----

type EngineUse = {
  id: number
  unit: bigint
  qty: number
  amounts: UsageAmounts
  status: string
  booked: boolean
}

function newAccount(credit: bigint): LockedAccount {
  return {
    orgId: 'org',
    subscriptionId: 'sub',
    state: 'pending',
    stateChangedAt: T0,
    voucher: credit,
    reservedVoucher: 0n,
    voucherExhaustedAt: null,
    prepaid: 0n,
    reservedPrepaid: 0n,
    mode: 'postpaid',
    accrued: 0n,
    reserved: 0n,
    booked: 0n,
    collected: 0n,
    writtenOff: 0n,
    entrySeq: 0n,
    accruedSince: null,
    allowance: 0n,
    monthlyLimit: null,
    windowStart: null,
    windowSeconds: WINDOW_SECONDS,
    spendWindow: 0,
    spendWindowSpent: 0n,
    limitWaiting: 0n,
  }
}

function transition(a: LockedAccount, to: SubscriptionState, now: bigint) {
  if (!allowedTransitions[a.state].includes(to)) return false
  a.state = to
  a.stateChangedAt = now
  return true
}

describe('the pure ledger core agrees with a model', () => {
  test('random sequences (fast-check, 1,000 runs)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0n, 5_000n, 12_000n, 30_000n),
        fc.array(cmd, { minLength: 1, maxLength: 40 }),
        (credit, cmds) => {
          let now = T0
          let nextId = 1
          const a = newAccount(credit)
          const uses: EngineUse[] = []
          const ledger: PendingEntry[] = []
          const m: Model = {
            state: 'pending',
            blockedAt: null,
            voucher: credit,
            voucherOutAt: null,
            prepaid: 0n,
            credited: 0n,
            mode: 'postpaid',
            accrued: 0n,
            booked: 0n,
            collected: 0n,
            allowance: 0n,
            limit: null,
            authorizedAt: null,
            spent: new Map(),
            holds: [],
            uses: [],
            charges: [],
          }
          const record = (movements: Movement[]) =>
            ledger.push(...entriesFor(a, movements, { at: now }))

          for (const c of cmds) {
            now += 1_000n
            if (c.t === 'meter' || c.t === 'reserve') {
              const lease = c.lease === 'none' ? null : c.lease === 'old' ? T0 - 1n : now - 1n
              const unit = PRICES[c.action]
              const expected = modelDecide(m, c.action, unit * BigInt(c.qty), now, lease)
              const step = meterStep(
                a,
                {
                  action: c.action,
                  quantity: c.qty,
                  unitPrice: unit,
                  now,
                  leaseClaimedAt: lease ?? undefined,
                },
                { hold: c.t === 'reserve' },
              )
              if (step.kind === 'refused') {
                const d = step.decision
                expect({
                  ok: false,
                  code: d.code,
                  ...(d.code === 'BILLING_INACTIVE' ? { reason: d.reason } : {}),
                }).toEqual(expected)
                continue
              }
              const got = {
                ok: true,
                voucher: step.amounts.voucher,
                prepaid: step.amounts.prepaid ?? 0n,
                billable: step.amounts.billable,
                free: step.decision.kind === 'free',
              }
              expect(got).toEqual(expected)
              if (!expected.ok) continue
              const w = modelWindow(m, now)
              if (expected.billable > 0n) m.spent.set(w, (m.spent.get(w) ?? 0n) + expected.billable)
              const id = nextId++
              if (c.t === 'meter') {
                m.voucher -= expected.voucher
                m.prepaid -= expected.prepaid
                m.accrued += expected.billable
                m.uses.push({
                  id,
                  voucher: expected.voucher,
                  prepaid: expected.prepaid,
                  billable: expected.billable,
                  w,
                  booked: false,
                })
                record(step.movements)
              } else {
                m.holds.push({
                  id,
                  unit,
                  qty: c.qty,
                  voucher: expected.voucher,
                  prepaid: expected.prepaid,
                  billable: expected.billable,
                  w,
                })
              }
              const held = m.holds.reduce((s, h) => s + h.voucher + h.prepaid, 0n)
              if (expected.voucher + expected.prepaid > 0n && m.voucher + m.prepaid - held === 0n)
                m.voucherOutAt = now
              uses.push({
                id,
                unit,
                qty: c.qty,
                amounts: step.amounts,
                status: c.t === 'meter' ? 'recorded' : 'reserved',
                booked: false,
              })
              // Whatever was accepted fits: never over the allowance, never over the limit.
              if (expected.billable > 0n) {
                expect(a.accrued + a.booked + a.reserved).toBeLessThanOrEqual(a.allowance)
                if (a.monthlyLimit !== null)
                  expect(a.spendWindowSpent).toBeLessThanOrEqual(a.monthlyLimit)
              }
            } else if (c.t === 'commit' || c.t === 'void') {
              if (m.holds.length === 0) continue
              const h = m.holds.splice(c.pick % m.holds.length, 1)[0]!
              const u = uses.find((x) => x.id === h.id)!
              const current = h.w === modelWindow(m, now)
              if (c.t === 'commit') {
                const used = Math.min(c.used, h.qty)
                // What was let through free stays free; otherwise the units used, at most the hold.
                const total = h.voucher + h.prepaid + h.billable === 0n ? 0n : h.unit * BigInt(used)
                const v = total < h.voucher ? total : h.voucher
                const pp = total - v < h.prepaid ? total - v : h.prepaid
                const b = total - v - pp
                m.voucher -= v
                m.prepaid -= pp
                m.accrued += b
                m.uses.push({
                  id: h.id,
                  voucher: v,
                  prepaid: pp,
                  billable: b,
                  w: h.w,
                  booked: false,
                })
                if (current) m.spent.set(h.w, (m.spent.get(h.w) ?? 0n) - (h.billable - b))
                const done = commitHold(a, u.amounts, { unitPrice: u.unit, quantity: used, now })
                u.amounts = done.amounts
                u.status = 'committed'
                record(done.movements)
              } else {
                if (current) m.spent.set(h.w, (m.spent.get(h.w) ?? 0n) - h.billable)
                releaseHold(a, u.amounts)
                u.status = 'voided'
              }
            } else if (c.t === 'voidRecorded') {
              const open = m.uses.filter((x) => !x.booked)
              if (open.length === 0) continue
              const mu = open[c.pick % open.length]!
              m.uses.splice(m.uses.indexOf(mu), 1)
              m.voucher += mu.voucher
              m.prepaid += mu.prepaid
              m.accrued -= mu.billable
              if (mu.w === modelWindow(m, now))
                m.spent.set(mu.w, (m.spent.get(mu.w) ?? 0n) - mu.billable)
              const u = uses.find((x) => x.id === mu.id)!
              record(voidRecorded(a, u.amounts))
              u.status = 'voided'
            } else if (c.t === 'expire') {
              for (const h of m.holds) {
                if (h.w === modelWindow(m, now))
                  m.spent.set(h.w, (m.spent.get(h.w) ?? 0n) - h.billable)
                const u = uses.find((x) => x.id === h.id)!
                releaseHold(a, u.amounts)
                u.status = 'expired'
              }
              m.holds = []
            } else if (c.t === 'tick') {
              now += 3_600_000_000n
            } else if (c.t === 'rollover') {
              now += WINDOW
            } else if (c.t === 'authorize') {
              if (m.state === 'canceled') continue
              expect(transition(a, 'active', now)).toBe(true)
              a.allowance = c.allowance
              a.monthlyLimit = c.limit
              a.windowStart ??= now
              m.authorizedAt ??= now
              m.state = 'active'
              m.allowance = c.allowance
              m.limit = c.limit
            } else if (c.t === 'state') {
              const allowed =
                m.state !== 'canceled' && !(m.state === 'pending' && c.to === 'lapsed')
              expect(transition(a, c.to, now)).toBe(allowed)
              if (allowed) {
                m.state = c.to
                m.blockedAt = now
              }
            } else if (c.t === 'book') {
              // Settlement books everything accrued (the ledger's bookCharges, as arithmetic).
              const amount = a.accrued
              a.booked += amount
              a.accrued = 0n
              if (amount > 0n) ledger.push(entryFor(a, { kind: 'charge_booked', amount, at: now }))
              for (const u of uses)
                if (u.status === 'recorded' || u.status === 'committed') u.booked = true
              if (m.accrued > 0n) m.charges.push(m.accrued)
              m.booked += m.accrued
              m.accrued = 0n
              for (const u of m.uses) u.booked = true
            } else if (c.t === 'credit') {
              // What creditPrepaid does on the locked row (its idempotency is the database's).
              a.prepaid += c.amount
              ledger.push(entryFor(a, { kind: 'prepaid_topup', amount: c.amount, at: now }))
              m.prepaid += c.amount
              m.credited += c.amount
            } else if (c.t === 'mode') {
              a.mode = c.mode
              m.mode = c.mode
            } else if (c.t === 'collect' && m.charges.length > 0) {
              const amount = m.charges.shift()!
              m.booked -= amount
              m.collected += amount
              m.allowance -= amount
              a.booked -= amount
              a.collected += amount
              a.allowance -= amount
            }
            // 'fail': a failed pull leaves the charge owed, nothing moves.

            const heldVoucher = m.holds.reduce((s, h) => s + h.voucher, 0n)
            const heldBillable = m.holds.reduce((s, h) => s + h.billable, 0n)
            const heldPrepaid = m.holds.reduce((s, h) => s + h.prepaid, 0n)
            expect({
              state: a.state,
              voucher: a.voucher - a.reservedVoucher,
              prepaid: a.prepaid - a.reservedPrepaid,
              accrued: a.accrued,
              reserved: a.reserved,
              booked: a.booked,
            }).toEqual({
              state: m.state,
              voucher: m.voucher - heldVoucher,
              prepaid: m.prepaid - heldPrepaid,
              accrued: m.accrued,
              reserved: heldBillable,
              booked: m.booked,
            })
            // The monthly meter of the window `now` is in.
            const w = windowIndexAt(a.windowStart, a.windowSeconds, now)
            const engineSpent = w !== null && w === a.spendWindow ? a.spendWindowSpent : 0n
            expect(engineSpent).toBe(m.spent.get(modelWindow(m, now)) ?? 0n)
          }

          // Σ usage = voucher used + accrued + booked + collected.
          const used = uses.filter((u) => u.status === 'recorded' || u.status === 'committed')
          expect(used.reduce((s, u) => s + u.amounts.voucher, 0n)).toBe(credit - a.voucher)
          // Σ prepaid usage = credited − balance; the balance never goes below what holds keep.
          expect(used.reduce((s, u) => s + (u.amounts.prepaid ?? 0n), 0n)).toBe(
            m.credited - a.prepaid,
          )
          expect(a.prepaid >= a.reservedPrepaid && a.reservedPrepaid >= 0n).toBe(true)
          expect(used.reduce((s, u) => s + u.amounts.billable, 0n)).toBe(
            a.accrued + a.booked + a.collected,
          )
          // Every entry carries the balances right after itself: replaying them gives the row.
          const after = { voucher: credit as bigint, included: 0n, prepaid: 0n, accrued: 0n }
          ledger.forEach((e, i) => {
            expect(e.seq).toBe(BigInt(i + 1))
            if (e.kind === 'charge_booked') after.accrued -= e.amount
            else after[balanceOf(e.kind)] += e.amount
            expect([e.voucherAfter, e.prepaidAfter, e.accruedAfter]).toEqual([
              after.voucher,
              after.prepaid,
              after.accrued,
            ])
          })
          expect([after.voucher, after.prepaid, after.accrued]).toEqual([
            a.voucher,
            a.prepaid,
            a.accrued,
          ])
        },
      ),
      { numRuns: 1_000 },
    )
  })
})

describe('budgets in the step that records', () => {
  const budgetAccount = (): LockedAccount => ({
    ...newAccount(0n),
    state: 'active',
    allowance: 1_000_000n,
    windowStart: T0,
    budgets: [
      {
        id: 1n,
        keyId: 'k',
        period: 'day',
        limit: 10_000n,
        override: null,
        overrideUntil: null,
        windowStart: T0 - (T0 % 86_400_000_000n),
        spent: 10_000n,
      },
    ],
  })
  const at = T0 + 1_000n

  test('a spent budget refuses paid work, but the wind-down of an earlier lease goes through, free', () => {
    for (const action of ['heartbeat', 'checkpoint', 'release_issue'] as const) {
      const a = budgetAccount()
      const step = meterStep(
        a,
        {
          action,
          quantity: 1,
          unitPrice: PRICES[action],
          now: at,
          leaseClaimedAt: at - 1n,
          keyId: 'k',
        },
        { hold: false },
      )
      expect(step).toMatchObject({
        kind: 'recorded',
        decision: { kind: 'free', reason: 'wind_down' },
      })
      expect([a.accrued, a.budgets![0]!.spent]).toEqual([0n, 10_000n])
    }
    // Without a lease (or with one claimed only now), a wind-down action is paid work like any other.
    for (const lease of [undefined, at]) {
      const step = meterStep(
        budgetAccount(),
        {
          action: 'heartbeat',
          quantity: 1,
          unitPrice: 100n,
          now: at,
          leaseClaimedAt: lease,
          keyId: 'k',
        },
        { hold: false },
      )
      expect(step).toMatchObject({
        kind: 'refused',
        decision: { code: 'SPEND_CAP_REACHED', scope: 'key' },
      })
    }
    const paid = meterStep(
      budgetAccount(),
      { action: 'save_comment', quantity: 1, unitPrice: 5_000n, now: at, keyId: 'k' },
      { hold: false },
    )
    expect(paid.kind).toBe('refused')
  })
})
