import {
  type CancelWithPermitParameters,
  type CancelWithPermitReturnType,
  cancelWithPermit,
} from '../subscriptions/cancelWithPermit.js'
import type { SettlementContext } from './context.js'
import { settleOnce } from './settleOnce.js'

export type CancelSubscriptionParameters = Omit<CancelWithPermitParameters, 'collectFirst'>

/**
 * Settles, then cancels: the owner's signed cancel (`cancelWithPermit`, the lifecycle's verb),
 * with what is accrued collected in between, so a cancel leaves nothing owed that could still be
 * pulled. Settlement brings the collection; the cancel itself needs no settlement
 * (docs/design.md, Cancel leaves nothing behind).
 *
 * @example
 * const { txHash, writtenOff } = await cancelSubscription(ctx, { orgId, subscriptionId, deadline, nonce, signature })
 */
export async function cancelSubscription(
  ctx: SettlementContext,
  p: CancelSubscriptionParameters,
): Promise<CancelWithPermitReturnType> {
  return await cancelWithPermit(ctx, {
    ...p,
    collectFirst: () => settleOnce({ ...ctx, thresholdMicros: 1n }, { orgIds: [p.orgId] }),
  })
}
