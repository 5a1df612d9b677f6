import { lockAccounts } from '../ledger/accounts.js'
import { lockBudgets } from '../ledger/budgets.js'
import type { SpendCap } from '../ledger/decide.js'
import { NoBillingAccountError, UnknownActionError, unitPrice } from '../ledger/index.js'
import { meterStep } from '../ledger/movements.js'
import { nowMicros } from '../ledger/sql.js'
import type { AppContext } from './context.js'

export type CheckUsageParameters = {
  orgId: string
  action: string
  quantity?: number | undefined
  /** The API key asking (its budgets, and its org's, apply); absent: the org's alone. */
  keyId?: string | null | undefined
  /** For lease wind-down: when the lease was claimed. */
  leaseClaimedAt?: Date | undefined
}

export type CheckUsageReturnType =
  | { allowed: true; priceMicros: bigint; free: string | null }
  | {
      allowed: false
      priceMicros: bigint
      code: string
      reason: string | undefined
      /** For `SPEND_CAP_REACHED`: which cap, its limit, what it counted and when it resets. */
      cap?: Omit<SpendCap, 'kind' | 'code'>
    }

/**
 * Would the gate allow `action` for the org (and the key's budgets) right now, and at what
 * price? The same step the meter takes (`meterStep`, budgets included), on an unlocked copy
 * of the account: nothing is recorded or held.
 */
export async function checkUsage(
  ctx: Pick<AppContext, 'db' | 'config'>,
  p: CheckUsageParameters,
): Promise<CheckUsageReturnType> {
  const price = unitPrice(ctx.config.rateCard, p.action)
  if (price === undefined) throw new UnknownActionError(p.action)
  const quantity = p.quantity ?? 1
  const sql = ctx.db.$client
  const [accounts, budgets] = await Promise.all([
    lockAccounts(sql, [p.orgId], { lock: false }),
    lockBudgets(sql, p.orgId),
  ])
  const account = accounts.get(p.orgId)
  if (!account) throw new NoBillingAccountError(p.orgId)
  const step = meterStep(
    { ...account, budgets },
    {
      action: p.action,
      quantity,
      unitPrice: price,
      now: nowMicros(),
      keyId: p.keyId ?? null,
      leaseClaimedAt: p.leaseClaimedAt ? BigInt(p.leaseClaimedAt.getTime()) * 1000n : undefined,
    },
    { hold: false },
  )
  const priceMicros = price * BigInt(quantity)
  if (step.kind === 'recorded') {
    const d = step.decision
    return { allowed: true, priceMicros, free: d.kind === 'free' ? d.reason : null }
  }
  const d = step.decision
  if (d.code === 'SPEND_CAP_REACHED') {
    const { kind: _, code, ...cap } = d
    return { allowed: false, priceMicros, code, reason: undefined, cap }
  }
  return { allowed: false, priceMicros, code: d.code, reason: d.reason }
}
