import { lockAccounts, snapshotOf } from '../ledger/accounts.js'
import { decide, NoBillingAccountError, UnknownActionError, unitPrice } from '../ledger/index.js'
import { nowMicros } from '../ledger/sql.js'
import type { AppContext } from './context.js'

export type CheckUsageParameters = { orgId: string; action: string; quantity?: number | undefined }

export type CheckUsageReturnType =
  | { allowed: true; priceMicros: bigint; free: string | null }
  | { allowed: false; priceMicros: bigint; code: string; reason: string | undefined }

/**
 * Would the gate allow `action` for the org right now, and at what price? The same decision
 * the meter takes, on an unlocked read of the account: nothing is recorded or held. (A thin
 * adapter over the ledger's `decide`; the ledger exports no dry-run of its own yet.)
 */
export async function checkUsage(
  ctx: Pick<AppContext, 'db' | 'config'>,
  p: CheckUsageParameters,
): Promise<CheckUsageReturnType> {
  const price = unitPrice(ctx.config.rateCard, p.action)
  if (price === undefined) throw new UnknownActionError(p.action)
  const quantity = p.quantity ?? 1
  const account = (await lockAccounts(ctx.db.$client, [p.orgId], { lock: false })).get(p.orgId)
  if (!account) throw new NoBillingAccountError(p.orgId)
  const d = decide(snapshotOf(account), {
    action: p.action,
    quantity,
    unitPrice: price,
    now: nowMicros(),
  })
  const priceMicros = price * BigInt(quantity)
  return d.kind === 'refuse'
    ? {
        allowed: false,
        priceMicros,
        code: d.code,
        reason: 'reason' in d ? (d.reason as string) : undefined,
      }
    : { allowed: true, priceMicros, free: d.kind === 'free' ? d.reason : null }
}
