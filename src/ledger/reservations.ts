import type { Db } from '../db/client.js'
import {
  appendEntries,
  entriesFor,
  type LockedAccount,
  lockAccount,
  saveAccounts,
} from './accounts.js'
import { lockBudgets, saveBudgets } from './budgets.js'
import { UsageStateError } from './errors.js'
import { commitHold, releaseHold, voidRecorded } from './movements.js'
import { microsOf, nowMicros, type Sql, toTimestamp } from './sql.js'

type UsageRow = {
  id: bigint
  org_id: string
  action: string
  quantity: number
  unit_price: bigint
  voucher_amount: bigint
  included_amount: bigint
  included_units: number
  prepaid_amount: bigint
  billable_amount: bigint
  window_index: number | null
  status: string
  charge_id: bigint | null
  key_id: string | null
  created_at: bigint
}

async function lockUsage(tx: Sql, orgId: string, usageId: bigint | string): Promise<UsageRow> {
  const [row] = await tx<UsageRow[]>`
    select id, org_id, action, quantity, unit_price, voucher_amount, included_amount, included_units, prepaid_amount, billable_amount, window_index, status, charge_id,
      key_id, ${tx.unsafe(microsOf('created_at'))} as created_at
    from usage where id = ${usageId.toString()} and org_id = ${orgId} for update`
  if (!row)
    throw new UsageStateError(`no usage ${usageId} for this org`, { usage_id: usageId.toString() })
  return row
}

const heldOf = (u: UsageRow) => ({
  voucher: u.voucher_amount,
  included: u.included_amount,
  prepaid: u.prepaid_amount,
  billable: u.billable_amount,
  windowIndex: u.window_index,
  units: u.included_units,
  action: u.action,
  unitPrice: u.unit_price,
  keyId: u.key_id,
  recordedAt: u.created_at,
})

/** Locks an org's account with its budgets (a hold released or a void gives back to them). */
async function lockWithBudgets(tx: Sql, orgId: string) {
  const account = await lockAccount(tx, orgId)
  account.budgets = await lockBudgets(tx, orgId)
  return account
}

/** Writes the account back, and the budgets a movement gave back to. */
async function save(tx: Sql, account: LockedAccount) {
  await Promise.all([saveAccounts(tx, [account]), saveBudgets(tx, account.budgets)])
}

export type CommitUsageParameters = {
  orgId: string
  usageId: string
  /** The units actually used: at most what was reserved. */
  quantity: number
}

/**
 * Settles a reservation with the units actually used: records their price (voucher part
 * first, as held) and releases the rest of the hold. A retry with the same quantity returns
 * the first outcome; committing an expired or voided reservation is a `UsageStateError`.
 */
export async function commitUsage(db: Db, p: CommitUsageParameters) {
  return await db.$client.begin(async (tx) => {
    const account = await lockWithBudgets(tx, p.orgId)
    const u = await lockUsage(tx, p.orgId, p.usageId)
    // A retried commit (its first answer lost) gets the first outcome, not a second charge.
    if (u.status === 'committed' && u.quantity === p.quantity) {
      return {
        usageId: p.usageId,
        quantity: u.quantity,
        voucherMicros: u.voucher_amount.toString(),
        includedMicros: u.included_amount.toString(),
        includedUnits: u.included_units,
        prepaidMicros: u.prepaid_amount.toString(),
        billableMicros: u.billable_amount.toString(),
      }
    }
    if (u.status !== 'reserved') {
      throw new UsageStateError(`usage ${p.usageId} is ${u.status}, not reserved`, {
        status: u.status,
      })
    }
    if (!Number.isSafeInteger(p.quantity) || p.quantity < 0 || p.quantity > u.quantity) {
      throw new UsageStateError(`commit of ${p.quantity} exceeds the ${u.quantity} reserved`)
    }
    const at = nowMicros()
    const { amounts, movements } = commitHold(account, heldOf(u), {
      unitPrice: u.unit_price,
      quantity: p.quantity,
      now: at,
    })
    const voucher = amounts.voucher
    const included = amounts.included ?? 0n
    const prepaid = amounts.prepaid ?? 0n
    const billable = amounts.billable
    const units = amounts.units ?? 0
    const entries = entriesFor(account, movements, { usageId: u.id, at, memo: u.action })
    account.dirty = true
    await tx`
      update usage set status = 'committed', quantity = ${p.quantity}, voucher_amount = ${voucher.toString()},
        included_amount = ${included.toString()}, included_units = ${units}, prepaid_amount = ${prepaid.toString()}, billable_amount = ${billable.toString()}, expires_at = null
      where id = ${u.id.toString()}`
    await appendEntries(tx, entries)
    await save(tx, account)
    return {
      usageId: p.usageId,
      quantity: p.quantity,
      voucherMicros: voucher.toString(),
      includedMicros: included.toString(),
      includedUnits: units,
      prepaidMicros: prepaid.toString(),
      billableMicros: billable.toString(),
    }
  })
}

export type VoidUsageParameters = {
  orgId: string
  usageId: string
  reason?: string
  status?: 'voided' | 'expired'
}

async function voidInTx(tx: Sql, account: LockedAccount, u: UsageRow, p: VoidUsageParameters) {
  const at = nowMicros()
  if (u.status === 'reserved') {
    releaseHold(account, heldOf(u))
  } else if (u.status === 'recorded' || u.status === 'committed') {
    if (u.charge_id !== null)
      throw new UsageStateError(`usage ${u.id} is already booked into a charge`)
    const movements = voidRecorded(account, heldOf(u))
    await appendEntries(
      tx,
      entriesFor(account, movements, { usageId: u.id, at, memo: p.reason ?? 'voided' }),
    )
  } else {
    throw new UsageStateError(`usage ${u.id} is already ${u.status}`, { status: u.status })
  }
  account.dirty = true
  await tx`update usage set status = ${p.status ?? 'voided'}, expires_at = null where id = ${u.id.toString()}`
}

/**
 * Voids a reservation (releasing its hold) or a recorded action whose work failed
 * (giving back its voucher part and removing its billable part) — never one already booked.
 * Idempotent: voiding a voided or expired usage does nothing.
 */
export async function voidUsage(db: Db, p: VoidUsageParameters) {
  await db.$client.begin(async (tx) => {
    const account = await lockWithBudgets(tx, p.orgId)
    const u = await lockUsage(tx, p.orgId, p.usageId)
    // Voiding twice (a retry, or a void racing expiry) changes nothing the second time.
    if (u.status === 'voided' || u.status === 'expired') return
    await voidInTx(tx, account, u, p)
    await save(tx, account)
  })
}

/**
 * Voids every reservation past its expiry: a crash between reserve and commit can
 * under-charge, never over-charge. Returns how many expired. Safe to run from many workers.
 */
export async function expireReservations(
  db: Db,
  p: { limit?: number; orgId?: string; now?: bigint } = {},
): Promise<number> {
  const now = p.now === undefined ? null : toTimestamp(p.now)
  const due = await db.$client<{ id: bigint; org_id: string }[]>`
    select id, org_id from usage
    where status = 'reserved' and expires_at < coalesce(${now}::timestamptz, clock_timestamp())
      and (${p.orgId ?? null}::uuid is null or org_id = ${p.orgId ?? null}::uuid)
    order by expires_at limit ${p.limit ?? 500}`
  let expired = 0
  for (const row of due) {
    await db.$client.begin(async (tx) => {
      const account = await lockWithBudgets(tx, row.org_id)
      const u = await lockUsage(tx, row.org_id, row.id)
      if (u.status !== 'reserved') return
      await voidInTx(tx, account, u, {
        orgId: row.org_id,
        usageId: row.id.toString(),
        status: 'expired',
      })
      await save(tx, account)
      expired++
    })
  }
  return expired
}
