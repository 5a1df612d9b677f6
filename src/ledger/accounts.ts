import type { SubscriptionState } from '../subscriptions/state/states.js'
import { saveAllowances } from '../subscriptions/state/subscriptionMoney.js'
import type { AccountSnapshot, BillingMode, Budget } from './decide.js'
import { NoBillingAccountError } from './errors.js'
import type { IncludedState, UnitCounts } from './included.js'
import { balanceOf, type Movement } from './movements.js'
import {
  arrayParams,
  type Column,
  columnParams,
  microsOf,
  type Sql,
  toTimestamp,
  zipArrays,
} from './sql.js'

/** An org's billing account and current subscription, locked for the transaction. */
export type LockedAccount = IncludedState & {
  orgId: string
  subscriptionId: string
  state: SubscriptionState
  stateChangedAt: bigint
  voucher: bigint
  reservedVoucher: bigint
  voucherExhaustedAt: bigint | null
  /** Prepaid balance on the books (held included), and what open reservations hold of it. */
  prepaid: bigint
  reservedPrepaid: bigint
  /** How the org pays (`billing_accounts.billing_mode`): read here, changed by `setBillingMode`. */
  mode: BillingMode
  accrued: bigint
  reserved: bigint
  booked: bigint
  collected: bigint
  writtenOff: bigint
  entrySeq: bigint
  accruedSince: bigint | null
  allowance: bigint
  monthlyLimit: bigint | null
  windowStart: bigint | null
  windowSeconds: number
  spendWindow: number
  spendWindowSpent: bigint
  /** Charges refused for the owner's limit, still owed (`subscriptions.limit_waiting`). */
  limitWaiting: bigint
  /** The org's spend budgets, when read with it (the meter reads them; see `readBudgets`). */
  budgets?: Budget[] | undefined
  /** Set when anything on the row changed and it must be written back. */
  dirty?: boolean
  /** The subscription's allowance as read, so only a change is written back (never a stale one). */
  loaded?: { allowance: bigint }
  /**
   * The row versions (`xmin`) of the account and its subscription as read: any write to either
   * row changes its version, so a write that expects these finds out whether the account it
   * decided on is still the one in the database.
   */
  versions?: { account: string; subscription: string }
}

/** The gate's view of a locked account: the voucher it sees is what reservations left. */
export function snapshotOf(a: LockedAccount): AccountSnapshot {
  return {
    state: a.state,
    stateChangedAt: a.stateChangedAt,
    voucher: a.voucher - a.reservedVoucher,
    voucherExhaustedAt: a.voucherExhaustedAt,
    prepaid: a.prepaid - a.reservedPrepaid,
    mode: a.mode,
    accrued: a.accrued,
    reserved: a.reserved,
    booked: a.booked,
    allowance: a.allowance,
    monthlyLimit: a.monthlyLimit,
    windowStart: a.windowStart,
    windowSeconds: a.windowSeconds,
    spendWindow: a.spendWindow,
    spendWindowSpent: a.spendWindowSpent,
    limitWaiting: a.limitWaiting,
  }
}

/**
 * Locks the accounts of `orgIds` in org-id order — the fixed order that keeps concurrent
 * batches from deadlocking — and reads them with their current subscription. Each row is
 * looked up by its key, in the order given (a lateral subquery with `limit 1` cannot be
 * planned as a join that reads the whole table: a plan cached while the table was small
 * would otherwise keep doing so as it grows).
 */
export async function lockAccounts(
  sql: Sql,
  orgIds: string[],
  {
    lock = true,
    tag,
  }: {
    lock?: boolean
    /** Makes the statement a prepared statement of its own (its plan made under its caller's settings). */
    tag?: string
  } = {},
): Promise<Map<string, LockedAccount>> {
  const rows = await sql.unsafe<Record<string, unknown>[]>(
    `${tag ? `/* ${tag} */ ` : ''}select a.org_id, a.subscription_id, s.state, ${microsOf('s.state_changed_at')} as state_changed_at,
       a.voucher, a.reserved_voucher, ${microsOf('a.voucher_exhausted_at')} as voucher_exhausted_at,
       a.prepaid, a.reserved_prepaid, a.billing_mode,
       a.included_monthly, ${microsOf('a.included_window_start')} as included_window_start, a.included_used,
       a.included_units, a.included_units_used,
       a.accrued, a.reserved, a.booked, a.collected, a.written_off, a.entry_seq,
       ${microsOf('a.accrued_since')} as accrued_since,
       s.allowance, s.monthly_limit, ${microsOf('s.window_start')} as window_start, s.window_seconds,
       a.spend_window, a.spend_window_spent, s.limit_waiting, a.row_version::text as account_version, s.row_version::text as subscription_version
     from (select unnest($1::uuid[]) as org_id) as q
       cross join lateral (select *, xmin as row_version from billing_accounts a where a.org_id = q.org_id limit 1) a
       cross join lateral (select *, xmin as row_version from subscriptions s where s.id = a.subscription_id limit 1) s
     order by a.org_id
     ${lock ? 'for update of a' : ''}`,
    arrayParams([orgIds]),
    { prepare: true },
  )
  const out = new Map<string, LockedAccount>()
  for (const r of rows) {
    out.set(r.org_id as string, {
      orgId: r.org_id as string,
      subscriptionId: r.subscription_id as string,
      state: r.state as SubscriptionState,
      stateChangedAt: r.state_changed_at as bigint,
      voucher: r.voucher as bigint,
      reservedVoucher: r.reserved_voucher as bigint,
      voucherExhaustedAt: (r.voucher_exhausted_at as bigint | null) ?? null,
      prepaid: r.prepaid as bigint,
      reservedPrepaid: r.reserved_prepaid as bigint,
      mode: r.billing_mode as BillingMode,
      includedMonthly: (r.included_monthly as bigint | null) ?? null,
      includedWindowStart: (r.included_window_start as bigint | null) ?? null,
      includedUsed: r.included_used as bigint,
      includedUnits: (r.included_units as UnitCounts | null) ?? null,
      includedUnitsUsed: (r.included_units_used as UnitCounts | null) ?? null,
      accrued: r.accrued as bigint,
      reserved: r.reserved as bigint,
      booked: r.booked as bigint,
      collected: r.collected as bigint,
      writtenOff: r.written_off as bigint,
      entrySeq: r.entry_seq as bigint,
      accruedSince: (r.accrued_since as bigint | null) ?? null,
      allowance: r.allowance as bigint,
      monthlyLimit: (r.monthly_limit as bigint | null) ?? null,
      windowStart: (r.window_start as bigint | null) ?? null,
      windowSeconds: r.window_seconds as number,
      spendWindow: r.spend_window as number,
      spendWindowSpent: r.spend_window_spent as bigint,
      limitWaiting: r.limit_waiting as bigint,
      loaded: { allowance: r.allowance as bigint },
      versions: {
        account: r.account_version as string,
        subscription: r.subscription_version as string,
      },
    })
  }
  return out
}

/** Locks one org's account; throws when the org has none. */
export async function lockAccount(sql: Sql, orgId: string): Promise<LockedAccount> {
  const a = (await lockAccounts(sql, [orgId])).get(orgId)
  if (!a) throw new NoBillingAccountError(orgId)
  return a
}

/** A ledger entry about to be appended: balances after are taken from the account. */
export type PendingEntry = {
  orgId: string
  seq: bigint
  subscriptionId: string | null
  kind: string
  amount: bigint
  voucherAfter: bigint
  prepaidAfter: bigint
  accruedAfter: bigint
  bookedAfter: bigint
  collectedAfter: bigint
  usageId: bigint | null
  chargeId: bigint | null
  memo: string | null
  createdAt: bigint
}

/** Builds the next entry of `a`'s ledger with its balances after the movement. */
export function entryFor(
  a: LockedAccount,
  e: {
    kind: string
    amount: bigint
    usageId?: bigint | null
    chargeId?: bigint | null
    memo?: string | null
    at: bigint
  },
): PendingEntry {
  a.entrySeq += 1n
  a.dirty = true
  return {
    orgId: a.orgId,
    seq: a.entrySeq,
    subscriptionId: a.subscriptionId,
    kind: e.kind,
    amount: e.amount,
    voucherAfter: a.voucher,
    prepaidAfter: a.prepaid,
    accruedAfter: a.accrued,
    bookedAfter: a.booked,
    collectedAfter: a.collected,
    usageId: e.usageId ?? null,
    chargeId: e.chargeId ?? null,
    memo: e.memo ?? null,
    createdAt: e.at,
  }
}

/**
 * The entries of movements just applied to `a` (in order), each with the balances right
 * after itself: the account holds the balances after the last, so walk back from there.
 */
export function entriesFor(
  a: LockedAccount,
  movements: readonly Movement[],
  e: { usageId?: bigint | null; at: bigint; memo?: string | null },
): PendingEntry[] {
  const entries = movements.map((m) => entryFor(a, { ...e, kind: m.kind, amount: m.amount }))
  rewindBalances(entries, a)
  return entries
}

/**
 * Gives each of one org's `entries` (in order, all of them after `a`'s movements were applied)
 * the voucher, prepaid and accrued balances right after itself: `a` holds those after the
 * last, so walk back from there. Booked and collected are the account's (metering never moves them).
 */
export function rewindBalances(entries: readonly PendingEntry[], a: LockedAccount): void {
  // The plan's included allowance has no balance on entries (docs/plans.md): counted, not shown.
  const after = { voucher: a.voucher, included: 0n, prepaid: a.prepaid, accrued: a.accrued }
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!
    entry.voucherAfter = after.voucher
    entry.prepaidAfter = after.prepaid
    entry.accruedAfter = after.accrued
    entry.bookedAfter = a.booked
    entry.collectedAfter = a.collected
    after[balanceOf(entry.kind)] -= entry.amount
  }
}

const timestampOrNull = (micros: bigint | null) => (micros === null ? null : toTimestamp(micros))

/** The ledger entry columns `entryParams` writes, in order. */
export const ENTRY_FIELDS: ReadonlyArray<Column<PendingEntry>> = [
  ['org_id', 'uuid', (e) => e.orgId],
  ['seq', 'int8', (e) => e.seq],
  ['subscription_id', 'text', (e) => e.subscriptionId],
  ['kind', 'text', (e) => e.kind],
  ['amount', 'int8', (e) => e.amount],
  ['voucher_after', 'int8', (e) => e.voucherAfter],
  ['prepaid_after', 'int8', (e) => e.prepaidAfter],
  ['accrued_after', 'int8', (e) => e.accruedAfter],
  ['booked_after', 'int8', (e) => e.bookedAfter],
  ['collected_after', 'int8', (e) => e.collectedAfter],
  ['usage_id', 'int8', (e) => e.usageId],
  ['charge_id', 'int8', (e) => e.chargeId],
  ['memo', 'text', (e) => e.memo],
  ['created_at', 'timestamptz', (e) => toTimestamp(e.createdAt)],
]

/** The columns of `entries` as array parameters, in `ENTRY_COLUMNS` order. */
export const entryParams = (entries: readonly PendingEntry[]) => columnParams(ENTRY_FIELDS, entries)

export const ENTRY_COLUMNS = ENTRY_FIELDS.map(([name]) => name).join(', ')

/** The rows of `entryParams` at parameters `$first`... (and of `more` after them), as a select. */
export const zipEntries = (
  first: number,
  more: ReadonlyArray<readonly [name: string, type: string]> = [],
) => zipArrays(first, [...ENTRY_FIELDS, ...more])

/** Appends entries in one statement. */
export async function appendEntries(sql: Sql, entries: PendingEntry[]): Promise<void> {
  if (entries.length === 0) return
  await sql.unsafe(
    `insert into ledger_entries (${ENTRY_COLUMNS}) ${zipEntries(1)}`,
    entryParams(entries),
    { prepare: true },
  )
}

/** Writes back every changed account (and a moved allowance to its subscription) in two statements. */
export async function saveAccounts(sql: Sql, accounts: Iterable<LockedAccount>): Promise<void> {
  const dirty = [...accounts].filter((a) => a.dirty)
  if (dirty.length === 0) return
  const accountsWrite = sql.unsafe(updateAccounts(1), accountParams(dirty), { prepare: true })
  // The subscription row only when its allowance moved (a collection): never in metering.
  const subs = movedAllowances(dirty)
  const subscriptionsWrite =
    subs.length === 0
      ? Promise.resolve()
      : saveAllowances(sql, {
          subscriptionIds: subs.map((a) => a.subscriptionId),
          allowances: subs.map((a) => a.allowance),
        })
  await Promise.all([accountsWrite, subscriptionsWrite])
}

/** Accounts whose subscription's allowance moved since they were locked. */
export const movedAllowances = (accounts: readonly LockedAccount[]) =>
  accounts.filter((a) => a.loaded === undefined || a.loaded.allowance !== a.allowance)

/** The account columns `accountParams` writes, in order; then the row versions, when checked. */
const ACCOUNT_FIELDS: ReadonlyArray<Column<LockedAccount>> = [
  ['org_id', 'uuid', (a) => a.orgId],
  ['voucher', 'int8', (a) => a.voucher],
  ['reserved_voucher', 'int8', (a) => a.reservedVoucher],
  ['prepaid', 'int8', (a) => a.prepaid],
  ['reserved_prepaid', 'int8', (a) => a.reservedPrepaid],
  ['voucher_exhausted_at', 'timestamptz', (a) => timestampOrNull(a.voucherExhaustedAt)],
  ['accrued', 'int8', (a) => a.accrued],
  ['reserved', 'int8', (a) => a.reserved],
  ['booked', 'int8', (a) => a.booked],
  ['collected', 'int8', (a) => a.collected],
  ['written_off', 'int8', (a) => a.writtenOff],
  ['entry_seq', 'int8', (a) => a.entrySeq],
  ['accrued_since', 'timestamptz', (a) => timestampOrNull(a.accruedSince)],
  ['spend_window', 'int4', (a) => a.spendWindow],
  ['spend_window_spent', 'int8', (a) => a.spendWindowSpent],
  ['included_window_start', 'timestamptz', (a) => timestampOrNull(a.includedWindowStart ?? null)],
  ['included_used', 'int8', (a) => a.includedUsed ?? 0n],
  [
    'included_units_used',
    'jsonb',
    (a) => (a.includedUnitsUsed ? JSON.stringify(a.includedUnitsUsed) : null),
  ],
]
const VERSION_FIELDS: ReadonlyArray<Column<LockedAccount>> = [
  ['account_version', 'xid', (a) => a.versions!.account],
  ['subscription_version', 'xid', (a) => a.versions!.subscription],
]
const accountFields = (versions: boolean) =>
  versions ? [...ACCOUNT_FIELDS, ...VERSION_FIELDS] : ACCOUNT_FIELDS

/**
 * The balances of `dirty` accounts as array parameters, for `updateAccounts`; with `versions`,
 * also the row versions each was decided on (its `versions`), for `updateAccounts`' check.
 */
export const accountParams = (dirty: readonly LockedAccount[], { versions = false } = {}) =>
  columnParams(accountFields(versions), dirty)

/**
 * The account rows' update from `accountParams` at parameters `$first`... (`org_id = any(...)`
 * repeats the join for the planner: it then fetches the rows by key rather than reading the
 * whole table to join a few).
 *
 * With `checkVersions`, from `accountParams(..., { versions: true })`: only rows still at the
 * versions given are updated (the account's, and its subscription's unchanged), and the update
 * returns a row for each one it updated — the caller counts them. A row another transaction is
 * updating is waited for and then, changed, left out.
 */
export const updateAccounts = (first: number, { checkVersions = false } = {}) => {
  return `update billing_accounts a set voucher = v.voucher, reserved_voucher = v.reserved_voucher,
       prepaid = v.prepaid, reserved_prepaid = v.reserved_prepaid,
       voucher_exhausted_at = v.voucher_exhausted_at, accrued = v.accrued, reserved = v.reserved,
       booked = v.booked, collected = v.collected, written_off = v.written_off, entry_seq = v.entry_seq,
       accrued_since = v.accrued_since, spend_window = v.spend_window, spend_window_spent = v.spend_window_spent,
       included_window_start = v.included_window_start, included_used = v.included_used,
       included_units_used = v.included_units_used,
       updated_at = clock_timestamp()
     from (${zipArrays(first, accountFields(checkVersions))}) as v
     where a.org_id = v.org_id and a.org_id = any($${first}::uuid[])${
       checkVersions
         ? `
       and a.xmin = v.account_version
       and exists (select from subscriptions s where s.id = a.subscription_id and s.xmin = v.subscription_version)
     returning a.org_id`
         : ''
     }`
}
