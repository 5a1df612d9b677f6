import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  cmd,
  type Model,
  modelDecide,
  modelWindow,
  newAccount,
  PRICES,
  T0,
  WINDOW,
} from '../../test/support/ledgerCoreModel.js'
import { allowedTransitions, type SubscriptionState } from '../subscriptions/state/states.js'
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

// A model-based test of the ledger's pure core — the gate and every balance movement that
// metering, commit, void and expiry make — against a small in-memory model written from
// docs/design.md's rules, separately from the engine. Random sequences of meter / reserve /
// commit / void / expiry / window rollover / state changes / authorization / booking /
// collection / failed pulls / prepaid credits / billing mode changes; after every step the
// decisions and the balances must agree.
// The model is test/support/ledgerCoreModel.ts.
// (test/ledger/model.integration.test.ts runs the same idea through PostgreSQL and the batcher.)

// ---- the engine: the ledger's own pure functions on an account row ----

type EngineUse = {
  id: number
  unit: bigint
  qty: number
  amounts: UsageAmounts
  status: string
  booked: boolean
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
