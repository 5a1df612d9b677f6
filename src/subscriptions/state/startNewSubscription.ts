import { BaseError } from '../../core/errors.js'
import type { Db } from '../../db/client.js'
import { switchSubscription } from '../../ledger/switchSubscription.js'
import { insertSubscription, newSubscriptionId } from './insertSubscription.js'

export type StartNewSubscriptionParameters = {
  orgId: string
  /** The subscription the owner is replacing: it must be the org's current one, canceled. */
  canceledSubscriptionId: string
}

export type StartNewSubscriptionReturnType = { subscriptionId: string; created: boolean }

/** Starting afresh is only for a canceled subscription: any other has its own controls. */
class NotCanceledError extends BaseError {
  constructor(state: string) {
    super(`this subscription is ${state}, not canceled: manage it instead of starting another`, {
      code: 'NOT_CANCELED',
      details: { state },
    })
  }
}

/**
 * After a cancel, the owner starts a new subscription for the same org: a new `pending` id
 * becomes the org's current one (docs/design.md, "Subscription states"); the old one and its
 * history stay. The monthly meter restarts with it; no new signup credit is granted.
 * Idempotent: when the org has already moved on from `canceledSubscriptionId`, its current
 * subscription is returned, so a double click opens one subscription, not two.
 */
export async function startNewSubscription(
  db: Db,
  p: StartNewSubscriptionParameters,
): Promise<StartNewSubscriptionReturnType> {
  return await db.$client.begin(async (tx) => {
    const [account] = await tx<{ subscription_id: string; window_seconds: number }[]>`
      select a.subscription_id, s.window_seconds
      from billing_accounts a join subscriptions s on s.id = a.subscription_id
      where a.org_id = ${p.orgId} for update of a`
    if (!account) throw new NotCanceledError('unknown')
    if (account.subscription_id !== p.canceledSubscriptionId) {
      const [was] = await tx<{ state: string }[]>`
        select state from subscriptions where id = ${p.canceledSubscriptionId} and org_id = ${p.orgId}`
      if (was?.state !== 'canceled') throw new NotCanceledError(was?.state ?? 'unknown')
      return { subscriptionId: account.subscription_id, created: false }
    }
    const [current] = await tx<{ state: string }[]>`
      select state from subscriptions where id = ${account.subscription_id} for update`
    if (current!.state !== 'canceled') throw new NotCanceledError(current!.state)
    const subscriptionId = newSubscriptionId()
    await insertSubscription(tx, {
      subscriptionId,
      orgId: p.orgId,
      windowSeconds: account.window_seconds,
      cause: 'owner',
      reason: `replaces:${p.canceledSubscriptionId}`,
    })
    await switchSubscription(tx, { orgId: p.orgId, subscriptionId })
    return { subscriptionId, created: true }
  })
}
