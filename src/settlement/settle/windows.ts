import type postgres from 'postgres'
import { type ClaimedCharge, carryChargeIntoWindow, moveChargeWindow } from '../../ledger/index.js'
import type { SettlementContext } from '../context.js'

/**
 * Moves a charge refused for the limit into `window`, where it now fits, as the claim sends it
 * (the ledger counts it there too); the claimed row follows.
 *
 * @example
 * await carryIntoWindow(tx, charge, 4)
 */
export async function carryIntoWindow(
  tx: postgres.TransactionSql,
  c: ClaimedCharge,
  window: number,
): Promise<void> {
  await carryChargeIntoWindow(tx, {
    chargeId: c.id.toString(),
    orgId: c.org_id,
    subscriptionId: c.subscription_id,
    amount: c.amount,
    from: c.window_index,
    to: window,
  })
  c.window_index = window
}

/**
 * The collector takes a charge in its subscription's current window or the one before, and a
 * charge keeps the window it was booked in. One retried windows later (a lapse the owner re-upped
 * a month on) would be refused for good, and every later charge after it as a seq gap: it moves
 * to the previous window by the chain's clock, the oldest the collector takes (nothing was
 * collected there while the subscription waited). One booked under windows a new period restarted
 * moves to the current window. Recorded with the claim, before anything is sent. Returns each
 * subscription's current window by the chain's clock.
 *
 * @example
 * const current = await rewindowStale(ctx, tx, charges)
 */
export async function rewindowStale(
  ctx: SettlementContext,
  tx: postgres.TransactionSql,
  charges: ClaimedCharge[],
): Promise<Map<string, number>> {
  const subscriptionIds = [...new Set(charges.map((c) => c.subscription_id))]
  const [{ timestamp }, windows] = await Promise.all([
    ctx.operator.getBlock(),
    tx<{ id: string; start: bigint | null; seconds: number }[]>`
      select id, extract(epoch from window_start)::int8 as start, window_seconds as seconds
      from subscriptions where id = any(${subscriptionIds}::text[])`,
  ])
  const current = new Map(
    windows
      .filter((w) => w.start !== null && w.seconds > 0)
      .map((w) => [w.id, Number((timestamp - BigInt(w.start!)) / BigInt(w.seconds))]),
  )
  for (const c of charges) {
    const now = current.get(c.subscription_id)
    if (now === undefined) continue
    // Booked under windows the owner's new period restarted: it is due in the current one.
    if (c.window_index > now) c.window_index = now
    else if (c.window_index + 1 < now) c.window_index = now - 1
    else continue
    await moveChargeWindow(tx, { chargeId: c.id.toString(), windowIndex: c.window_index })
  }
  return current
}

/**
 * The collector refuses a window before its subscription's last one, so a charge never goes in
 * a window before its predecessor's (a predecessor carried into a later window for the limit, or
 * moved by `rewindowStale`, takes its successors along): sent earlier, it could only fail
 * `window`, and every later charge `seq_gap`. Moved into a later window, it counts there, on the
 * ledger as on-chain.
 *
 * @example
 * await keepWindowsMonotonic(tx, charges, current)
 */
export async function keepWindowsMonotonic(
  tx: postgres.TransactionSql,
  charges: ClaimedCharge[],
  current: ReadonlyMap<string, number>,
): Promise<void> {
  const bySubscription = new Map<string, ClaimedCharge[]>()
  for (const c of charges) {
    const list = bySubscription.get(c.subscription_id) ?? []
    list.push(c)
    bySubscription.set(c.subscription_id, list)
  }
  const firsts = [...bySubscription.values()].map((list) => {
    list.sort((a, b) => a.seq - b.seq)
    return list[0]!
  })
  const previous = await tx<{ subscription_id: string; window_index: number }[]>`
    select c.subscription_id, c.window_index from charges c
    join unnest(${firsts.map((c) => c.subscription_id)}::text[], ${firsts.map((c) => c.seq - 1)}::int4[]) as q(subscription_id, seq)
      on c.subscription_id = q.subscription_id and c.seq = q.seq`
  const floorOf = new Map(previous.map((p) => [p.subscription_id, p.window_index]))
  for (const [subscriptionId, list] of bySubscription) {
    // Never past the chain's current window: windows a new period restarted count afresh.
    let floor = Math.min(
      floorOf.get(subscriptionId) ?? 0,
      current.get(subscriptionId) ?? Number.MAX_SAFE_INTEGER,
    )
    for (const c of list) {
      if (c.window_index < floor) await carryIntoWindow(tx, c, floor)
      floor = c.window_index
    }
  }
}
