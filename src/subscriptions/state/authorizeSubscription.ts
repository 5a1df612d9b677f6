import type { Db } from '../../db/client.js'
import { lockAccount } from '../../ledger/accounts.js'
import { InvalidTransitionError } from '../../ledger/errors.js'
import type { TransitionCause } from './states.js'
import { transitionSubscription } from './transitionSubscription.js'

export type AuthorizeSubscriptionParameters = {
  orgId: string
  /** The subscription the owner signed for; must be the org's current one. */
  subscriptionId: string
  owner: string
  /** The token allowance now in place for the collector (the permit's value). */
  allowance: bigint
  windowSeconds?: number
  /**
   * Start of the fixed windows, in seconds since the epoch: the collector's `start` from its
   * `Authorized` event, so the ledger and the contract count the same windows. Defaults to now.
   */
  windowStart?: number
  /** `null` removes the limit; omitted keeps it. */
  monthlyLimit?: bigint | null
  termsNonce?: number
  cause?: TransitionCause
  actor?: string
}

/**
 * Records an authorization (first, or a re-authorization / top-up on the same subscription):
 * the allowance in place and the terms, and the move to `active` through the transition
 * function. Windows start at the first authorization and keep their start afterwards.
 */
export async function authorizeSubscription(db: Db, p: AuthorizeSubscriptionParameters) {
  return await db.$client.begin(async (tx) => {
    const account = await lockAccount(tx, p.orgId)
    if (account.subscriptionId !== p.subscriptionId) {
      throw new InvalidTransitionError({
        subscriptionId: p.subscriptionId,
        from: 'not current',
        to: 'active',
      })
    }
    const result = await transitionSubscription(tx, {
      subscriptionId: p.subscriptionId,
      to: 'active',
      cause: p.cause ?? 'settlement',
      actor: p.actor ?? p.owner,
      reason: account.state === 'pending' ? 'authorized' : 'reauthorized',
      authorization: {
        owner: p.owner,
        allowance: p.allowance,
        windowSeconds: p.windowSeconds,
        windowStart: p.windowStart === undefined ? undefined : BigInt(p.windowStart) * 1_000_000n,
        monthlyLimit: p.monthlyLimit,
        termsNonce: p.termsNonce,
      },
    })
    // The transition wrote the allowance, terms and window (resetting the window's spend when
    // its start moved); the account row itself has no part in an authorization.
    return result
  })
}

/** Sets an org's subscription state for a chain- or owner-caused reason (lapsed, needs_reauth, canceled). */
export async function setSubscriptionState(
  db: Db,
  p: {
    subscriptionId: string
    to: 'needs_reauth' | 'lapsed' | 'canceled' | 'active'
    cause: TransitionCause
    reason?: string
    actor?: string
  },
) {
  return await db.$client.begin((tx) => transitionSubscription(tx, p))
}
