import { bonusFor, type PrepaidPackage } from '../core/prepaidPackages.js'
import type { Db } from '../db/client.js'
import { setLastSeq } from '../subscriptions/state/subscriptionMoney.js'
import { appendEntries, entryFor, lockAccount, saveAccounts } from './accounts.js'
import { IdempotencyConflictError, TopUpRefusedError } from './errors.js'
import { nextChargeSeq } from './nextChargeSeq.js'
import { nowMicros, type Sql } from './sql.js'
import { TOP_UP_COLUMNS, type TopUp, type TopUpRow, toTopUp } from './topUps.js'

export type RequestTopUpParameters = {
  orgId: string
  /** Micro-credits to pull, more than zero. */
  amount: bigint
  /** The requester's key (per org): a retry returns the first top-up. None for auto top-ups. */
  idempotencyKey?: string | undefined
  /**
   * Booked by the auto top-up, not asked for: only while the balance is below `threshold`
   * (decided again under the lock — a top-up collected meanwhile ended the dip).
   */
  auto?: { threshold: bigint } | undefined
  /**
   * The operator's packages (`PREPAID_PACKAGES`): a top-up of exactly a package's price —
   * requested or auto — also credits its bonus when collected (`bonusFor`, the one rule).
   */
  packages?: readonly PrepaidPackage[] | undefined
}

export type RequestTopUpReturnType = { topUp: TopUp; replayed: boolean }

/**
 * Books a prepaid top-up: a charge of kind `topup` with the subscription's next seq, pulled by
 * settlement through the collector like any charge (its intent recorded before it is sent,
 * recovered after a crash by its seq) and credited to the prepaid balance — once — in the
 * transaction that marks it collected. One top-up is open per org at most (a unique index on
 * open top-ups; here under the account's lock): another is refused `in_flight`. Refused too for
 * a postpaid org, without an active permit, or past what the permit has left; a retry with the
 * same idempotency key returns the first top-up.
 *
 * @example
 * const { topUp } = await requestTopUp(db, { orgId, amount: 20_000_000n, idempotencyKey: 'buy-1' })
 */
export async function requestTopUp(
  db: Db,
  p: RequestTopUpParameters,
): Promise<RequestTopUpReturnType> {
  return await db.$client.begin(async (tx) => {
    const account = await lockAccount(tx, p.orgId)
    if (p.idempotencyKey !== undefined) {
      const [prior] = await tx<TopUpRow[]>`
        select ${tx.unsafe(TOP_UP_COLUMNS)} from charges
        where org_id = ${p.orgId} and idempotency_key = ${p.idempotencyKey}`
      if (prior) {
        if (BigInt(prior.amount) !== p.amount) throw new IdempotencyConflictError(p.idempotencyKey)
        return { topUp: toTopUp(prior), replayed: true }
      }
    }
    if (account.mode !== 'prepaid')
      throw new TopUpRefusedError('not_prepaid', 'the org is postpaid: choose prepaid first')
    if (account.state !== 'active')
      throw new TopUpRefusedError(
        'no_permit',
        'there is no active permit to pull from: the owner signs one on the manage page',
        { state: account.state, subscription_id: account.subscriptionId },
      )
    if (p.auto && account.prepaid - account.reservedPrepaid >= p.auto.threshold)
      throw new TopUpRefusedError('above_threshold', 'the balance is not below the threshold')
    const open = await openTopUp(tx, p.orgId)
    if (open)
      throw new TopUpRefusedError('in_flight', `top-up ${open.id} is still open`, {
        top_up_id: open.id,
      })
    const left = account.allowance - account.accrued - account.reserved - account.booked
    if (p.amount > left)
      throw new TopUpRefusedError('exceeds_allowance', 'more than the permit has left', {
        left_micros: (left < 0n ? 0n : left).toString(),
        asked_micros: p.amount.toString(),
      })
    const bonus = bonusFor(p.packages ?? [], p.amount)
    const details = bonus > 0n ? { bonus_micros: bonus.toString() } : null
    const at = nowMicros()
    const { lastSeq, floor, current } = await nextChargeSeq(tx, account, at)
    const seq = lastSeq + 1
    const window = Math.max(floor, current ?? 0)
    const [row] = await tx<TopUpRow[]>`
      insert into charges (org_id, subscription_id, seq, window_index, amount, status, kind, idempotency_key, details)
      values (${p.orgId}, ${account.subscriptionId}, ${seq}, ${window}, ${p.amount.toString()}, 'booked',
        'topup', ${p.idempotencyKey ?? null}, ${details === null ? null : JSON.stringify(details)}::jsonb)
      returning ${tx.unsafe(TOP_UP_COLUMNS)}`
    await setLastSeq(tx, { subscriptionId: account.subscriptionId, seq })
    await appendEntries(tx, [
      entryFor(account, {
        kind: 'topup_booked',
        amount: p.amount,
        chargeId: BigInt(row!.id),
        at,
        memo: `${p.auto ? 'auto' : 'requested'}: seq ${seq} window ${window}${bonus > 0n ? ` bonus ${bonus}` : ''}`,
      }),
    ])
    await saveAccounts(tx, [account])
    return { topUp: toTopUp(row!), replayed: false }
  })
}

/** The org's open top-up (booked, in flight, or failed and waiting), if any. */
async function openTopUp(tx: Sql, orgId: string): Promise<TopUp | undefined> {
  const [row] = await tx<TopUpRow[]>`
    select ${tx.unsafe(TOP_UP_COLUMNS)} from charges
    where org_id = ${orgId} and kind = 'topup' and status in ('booked', 'submitted', 'failed')`
  return row ? toTopUp(row) : undefined
}
