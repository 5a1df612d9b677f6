import type { Db } from '../db/client.js'
import { refreshLimitWaiting } from '../subscriptions/state/refreshLimitWaiting.js'
import { recordDrawn, setLastSeq } from '../subscriptions/state/subscriptionMoney.js'
import {
  appendEntries,
  entryFor,
  type LockedAccount,
  lockAccount,
  saveAccounts,
} from './accounts.js'
import { creditPrepaid } from './creditPrepaid.js'
import { UsageStateError } from './errors.js'
import { nextChargeSeq } from './nextChargeSeq.js'
import { nowMicros, type Sql } from './sql.js'

/** A charge as settlement sees it. */
export type Charge = {
  id: string
  orgId: string
  subscriptionId: string
  seq: number
  windowIndex: number
  amount: bigint
  status: 'booked' | 'submitted' | 'collected' | 'failed' | 'written_off'
  failureReason: string | null
  txHash: string | null
  /** `usage` (owed) or `topup` (a prepaid top-up, credited when collected). */
  kind: ChargeKind
}

/** What a charge pulls for: booked usage, or a prepaid top-up. */
export type ChargeKind = 'usage' | 'topup'

type ChargeRow = {
  id: bigint
  org_id: string
  subscription_id: string
  seq: number
  window_index: number
  amount: bigint
  status: Charge['status']
  failure_reason: string | null
  tx_hash: string | null
  kind: ChargeKind
}

const toCharge = (r: ChargeRow): Charge => ({
  id: r.id.toString(),
  orgId: r.org_id,
  subscriptionId: r.subscription_id,
  seq: r.seq,
  windowIndex: r.window_index,
  amount: r.amount,
  status: r.status,
  failureReason: r.failure_reason,
  txHash: r.tx_hash,
  kind: r.kind,
})

async function lockCharge(tx: Sql, chargeId: string): Promise<ChargeRow> {
  const [row] = await tx<ChargeRow[]>`
    select id, org_id, subscription_id, seq, window_index, amount, status, failure_reason, tx_hash, kind
    from charges where id = ${chargeId}`
  if (!row) throw new UsageStateError(`no charge ${chargeId}`)
  return row
}

/**
 * Books an org's accrued usage into charges, one per usage window (ascending), each with the
 * subscription's next on-chain sequence number: accrued → booked on the ledger. Returns the
 * new charges (none when nothing is accrued).
 */
export async function bookCharges(db: Db, p: { orgId: string }): Promise<Charge[]> {
  return await db.$client.begin(async (tx) => {
    const account = await lockAccount(tx, p.orgId)
    const windows = await tx<{ window_index: number; amount: bigint; ids: bigint[] }[]>`
      select window_index, sum(billable_amount)::int8 as amount, array_agg(id) as ids
      from usage
      where org_id = ${p.orgId} and subscription_id = ${account.subscriptionId}
        and charge_id is null and billable_amount > 0 and status in ('recorded', 'committed')
      group by window_index order by window_index`
    if (windows.length === 0) return []
    const at = nowMicros()
    // Usage never lies in a later window than now — except usage metered under provisional
    // windows (a held authorization's) that the collector's later start replaced: it is due in
    // the collector's current window, the only one it takes for it. And windows never go back
    // along seq (the collector refuses a window before its last): usage of an older window (a
    // reservation committed late) goes in the window of the charge before it.
    const next = await nextChargeSeq(tx, account, at)
    let seq = next.lastSeq
    const { current, floor } = next
    const merged: { window: number; amount: bigint; ids: bigint[] }[] = []
    for (const w of windows) {
      const window = Math.max(
        floor,
        Math.min(w.window_index ?? 0, current ?? Number.MAX_SAFE_INTEGER),
      )
      const last = merged.at(-1)
      if (last?.window === window) {
        last.amount += BigInt(w.amount)
        last.ids.push(...w.ids)
      } else merged.push({ window, amount: BigInt(w.amount), ids: [...w.ids] })
    }
    const out: Charge[] = []
    const entries = []
    for (const w of merged) {
      seq += 1
      const window = w.window
      const [row] = await tx<ChargeRow[]>`
        insert into charges (org_id, subscription_id, seq, window_index, amount, status)
        values (${p.orgId}, ${account.subscriptionId}, ${seq}, ${window}, ${w.amount.toString()}, 'booked')
        returning id, org_id, subscription_id, seq, window_index, amount, status, failure_reason, tx_hash, kind`
      await tx`update usage set charge_id = ${row!.id.toString()} where id = any(${w.ids.map(String)}::int8[])`
      account.accrued -= w.amount
      account.booked += w.amount
      entries.push(
        entryFor(account, {
          kind: 'charge_booked',
          amount: w.amount,
          chargeId: row!.id,
          at,
          memo: `seq ${seq} window ${window}`,
        }),
      )
      out.push(toCharge(row!))
    }
    if (account.accrued === 0n) account.accruedSince = null
    await setLastSeq(tx, { subscriptionId: account.subscriptionId, seq })
    await appendEntries(tx, fixAfter(entries, account))
    await saveAccounts(tx, [account])
    return out
  })
}

/** Entries built in a loop carry the final balances; give each the balances after itself. */
function fixAfter(entries: ReturnType<typeof entryFor>[], a: LockedAccount) {
  let accrued = a.accrued
  let booked = a.booked
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!
    e.accruedAfter = accrued
    e.bookedAfter = booked
    accrued += e.amount
    booked -= e.amount
  }
  return entries
}

/** Moves a collected charge from booked to collected; the allowance shrinks by as much. */
export async function markChargeCollected(
  db: Db,
  p: { chargeId: string; txHash: string },
): Promise<Charge> {
  return await db.$client.begin(async (tx) => {
    const c = await lockCharge(tx, p.chargeId)
    const account = await lockAccount(tx, c.org_id)
    const [row] = await tx<(Pick<ChargeRow, 'status'> & { bonus: bigint })[]>`
      select status, coalesce((details->>'bonus_micros')::bigint, 0) as bonus
      from charges where id = ${p.chargeId} for update`
    if (row!.status === 'collected') return toCharge({ ...c, status: 'collected' })
    if (row!.status === 'written_off')
      throw new UsageStateError(`charge ${p.chargeId} was written off`)
    // A top-up was never owed: the pull becomes prepaid balance instead (below).
    const topUp = c.kind === 'topup'
    if (!topUp) {
      account.booked -= c.amount
      account.collected += c.amount
    }
    if (c.subscription_id === account.subscriptionId) account.allowance -= c.amount
    const entry = entryFor(account, {
      kind: topUp ? 'topup_collected' : 'charge_collected',
      amount: c.amount,
      chargeId: c.id,
      at: nowMicros(),
      memo: p.txHash,
    })
    await tx`
      update charges set status = 'collected', tx_hash = ${p.txHash}, failure_reason = null, updated_at = clock_timestamp()
      where id = ${p.chargeId}`
    await recordDrawn(tx, {
      subscriptionId: c.subscription_id,
      currentSubscriptionId: account.subscriptionId,
      amount: c.amount,
    })
    await appendEntries(tx, [entry])
    await saveAccounts(tx, [account])
    // Credited in the transaction that marks it collected: once, whoever sees the pull first.
    if (topUp)
      await creditPrepaid(tx, {
        orgId: c.org_id,
        amount: c.amount,
        source: 'topup',
        reference: `charge:${c.id}`,
      })
    // A package's bonus: its own credit and ledger line, once (docs/prepaid.md, Packages).
    if (topUp && BigInt(row!.bonus) > 0n)
      await creditPrepaid(tx, {
        orgId: c.org_id,
        amount: BigInt(row!.bonus),
        source: 'bonus',
        reference: `charge:${c.id}`,
      })
    await refreshLimitWaiting(tx, { subscriptionIds: [c.subscription_id] })
    return toCharge({ ...c, status: 'collected', tx_hash: p.txHash })
  })
}

/** Records a failed pull with its decoded reason; the charge stays owed (same seq on retry). */
export async function markChargeFailed(db: Db, p: { chargeId: string; reason: string }) {
  await db.$client.begin(async (tx) => {
    const c = await lockCharge(tx, p.chargeId)
    const account = await lockAccount(tx, c.org_id)
    await tx`
      update charges set status = 'failed', failure_reason = ${p.reason}, updated_at = clock_timestamp()
      where id = ${p.chargeId} and status not in ('collected', 'written_off')`
    await appendEntries(tx, [
      entryFor(account, {
        kind: 'charge_failed',
        amount: 0n,
        chargeId: c.id,
        at: nowMicros(),
        memo: p.reason,
      }),
    ])
    await saveAccounts(tx, [account])
    await refreshLimitWaiting(tx, { subscriptionIds: [c.subscription_id] })
  })
}

/** Writes off a charge that cannot be collected (on cancel), on the record. */
export async function writeOffCharge(db: Db, p: { chargeId: string; reason: string }) {
  await db.$client.begin(async (tx) => {
    const c = await lockCharge(tx, p.chargeId)
    const account = await lockAccount(tx, c.org_id)
    const [row] = await tx<
      ChargeRow[]
    >`select status from charges where id = ${p.chargeId} for update`
    if (row!.status === 'collected' || row!.status === 'written_off') return
    // A top-up was never owed: it is dropped, on the record, and no balance moves.
    const topUp = c.kind === 'topup'
    if (!topUp) {
      account.booked -= c.amount
      account.writtenOff += c.amount
    }
    await tx`
      update charges set status = 'written_off', failure_reason = ${p.reason}, updated_at = clock_timestamp()
      where id = ${p.chargeId}`
    await appendEntries(tx, [
      entryFor(account, {
        kind: topUp ? 'topup_written_off' : 'write_off',
        amount: c.amount,
        chargeId: c.id,
        at: nowMicros(),
        memo: p.reason,
      }),
    ])
    await saveAccounts(tx, [account])
    await refreshLimitWaiting(tx, { subscriptionIds: [c.subscription_id] })
  })
}

/** Charges of one org (or of one of its subscriptions), newest first. */
export async function listCharges(
  db: Db,
  p: { orgId: string; subscriptionId?: string; limit?: number },
): Promise<Charge[]> {
  const sql = db.$client
  const rows = await sql<ChargeRow[]>`
    select id, org_id, subscription_id, seq, window_index, amount, status, failure_reason, tx_hash, kind
    from charges where org_id = ${p.orgId}
      ${p.subscriptionId === undefined ? sql`` : sql`and subscription_id = ${p.subscriptionId}`}
    order by id desc limit ${p.limit ?? 100}`
  return rows.map(toCharge)
}
