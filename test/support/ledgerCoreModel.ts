import fc from 'fast-check'
import type { LockedAccount } from '../../src/ledger/accounts.js'
import type { SubscriptionState } from '../../src/subscriptions/state/states.js'

// The model of src/ledger/movements.test.ts: the ledger's gate and balances written out plainly
// from docs/design.md's rules, separately from the engine, with the random commands it runs and
// the account row the engine starts from.

export const PRICES = {
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
export const WINDOW = BigInt(WINDOW_SECONDS) * 1_000_000n
export const T0 = 1_800_000_000_000_000n

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

export const cmd: fc.Arbitrary<Cmd> = fc.oneof(
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
export type Model = {
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

export function modelWindow(m: Model, now: bigint) {
  return m.authorizedAt === null ? 0 : Number((now - m.authorizedAt) / WINDOW)
}

export function modelDecide(
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

export function newAccount(credit: bigint): LockedAccount {
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
