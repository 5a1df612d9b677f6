import type { LockedAccount } from './accounts.js'
import { windowIndexAt } from './decide.js'
import type { Sql } from './sql.js'

export type NextChargeSeqReturnType = {
  /** The subscription's last seq: the next charge takes `lastSeq + 1`. */
  lastSeq: number
  /** The earliest window a new charge may go in: its predecessor's (never past `current`). */
  floor: number
  /** The subscription's current window now, or undefined before it has windows. */
  current: number | undefined
}

/**
 * Locks the subscription's seq counter and says where a new charge goes: the collector takes
 * seqs in order and never a window before the last one, nor a window after the current one.
 *
 * @example
 * const { lastSeq, floor, current } = await nextChargeSeq(tx, account, nowMicros())
 */
export async function nextChargeSeq(
  tx: Sql,
  account: LockedAccount,
  at: bigint,
): Promise<NextChargeSeqReturnType> {
  const [sub] = await tx<{ last_seq: number; last_window: number | null }[]>`
    select s.last_seq, (select c.window_index from charges c
      where c.subscription_id = s.id and c.seq = s.last_seq) as last_window
    from subscriptions s where s.id = ${account.subscriptionId} for update`
  const current = windowIndexAt(account.windowStart, account.windowSeconds, at) ?? undefined
  // (Never past now: windows a new period restarted are counted afresh.)
  const floor = Math.min(sub!.last_window ?? 0, current ?? Number.MAX_SAFE_INTEGER)
  return { lastSeq: sub!.last_seq, floor, current }
}
