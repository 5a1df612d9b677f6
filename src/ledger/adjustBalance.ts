import { ValidationError } from '../core/errors.js'
import type { Db } from '../db/client.js'
import { appendEntries, entryFor, lockAccount, saveAccounts } from './accounts.js'
import { IdempotencyConflictError } from './errors.js'
import { nowMicros, toTimestamp } from './sql.js'

export type AdjustBalanceParameters = {
  orgId: string
  /** `voucher`: signup credit (a goodwill top-up or a correction); `accrued`: billable usage not yet charged. */
  balance: 'voucher' | 'accrued'
  /** Signed micro-credits: negative credits the org (less accrued, or less voucher). */
  amount: bigint
  /** Why, for the record (shown on the ledger line). */
  reason: string
  /** Who made it (an operator's name or wallet). */
  actor: string
  /** Permanent per org, in the same table as metering's keys: a retry returns the first outcome. */
  idempotencyKey?: string
}

export type AdjustBalanceReturnType = {
  entrySeq: string
  balance: 'voucher' | 'accrued'
  amountMicros: string
  afterMicros: string
  replayed: boolean
}

/**
 * A manual adjustment, on the record (the operator's `tollgate billing adjust`): an append-only
 * `adjustment_voucher` or `adjustment_accrued` entry with the balances after it. Neither balance
 * may go below zero (what open reservations hold included). Never touches collected money: that
 * moves only with the chain (`markChargeCollected`) or a refund (`refund`).
 *
 * @example
 * await adjustBalance(db, { orgId, balance: 'accrued', amount: -5_000n, reason: 'ticket 42', actor: 'ops@alice' })
 */
export async function adjustBalance(
  db: Db,
  p: AdjustBalanceParameters,
): Promise<AdjustBalanceReturnType> {
  if (p.amount === 0n) throw new ValidationError('an adjustment must move something')
  if (p.reason.trim() === '' || p.actor.trim() === '')
    throw new ValidationError('an adjustment needs a reason and an actor')
  const requestHash = JSON.stringify(['adjust', p.balance, p.amount.toString()])
  return await db.$client.begin(async (tx) => {
    const account = await lockAccount(tx, p.orgId)
    if (p.idempotencyKey !== undefined) {
      const [prior] = await tx<{ request_hash: string; outcome: AdjustBalanceReturnType }[]>`
        select request_hash, outcome from idempotency_keys
        where org_id = ${p.orgId} and key = ${p.idempotencyKey}`
      if (prior) {
        if (prior.request_hash !== requestHash) throw new IdempotencyConflictError(p.idempotencyKey)
        return { ...prior.outcome, replayed: true }
      }
    }
    const at = nowMicros()
    let after: bigint
    if (p.balance === 'voucher') {
      after = account.voucher + p.amount
      if (after - account.reservedVoucher < 0n)
        throw new ValidationError('the signup credit cannot go below zero', {
          voucher_micros: (account.voucher - account.reservedVoucher).toString(),
        })
      account.voucher = after
    } else {
      after = account.accrued + p.amount
      if (after < 0n)
        throw new ValidationError('accrued usage cannot go below zero', {
          accrued_micros: account.accrued.toString(),
        })
      account.accrued = after
      if (after === 0n) account.accruedSince = null
      else account.accruedSince ??= at
    }
    const entry = entryFor(account, {
      kind: p.balance === 'voucher' ? 'adjustment_voucher' : 'adjustment_accrued',
      amount: p.amount,
      at,
      memo: `${p.actor}: ${p.reason}`,
    })
    const outcome: AdjustBalanceReturnType = {
      entrySeq: entry.seq.toString(),
      balance: p.balance,
      amountMicros: p.amount.toString(),
      afterMicros: after.toString(),
      replayed: false,
    }
    await appendEntries(tx, [entry])
    await saveAccounts(tx, [account])
    if (p.idempotencyKey !== undefined) {
      await tx`
        insert into idempotency_keys (org_id, key, request_hash, outcome, created_at)
        values (${p.orgId}, ${p.idempotencyKey}, ${requestHash}, ${JSON.stringify(outcome)}::jsonb, ${toTimestamp(at)})`
    }
    return outcome
  })
}
