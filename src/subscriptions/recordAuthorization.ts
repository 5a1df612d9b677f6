import type { Db } from '../db/client.js'
import type { SignedAuthorization } from './authorization.js'
import { authorizeSubscription } from './state/authorizeSubscription.js'
import type { TransitionCause } from './state/states.js'

export type RecordAuthorizationParameters = {
  orgId: string
  subscriptionId: string
  auth: SignedAuthorization
  /** The allowance in place (the collector's `Authorized` event, or the held permit's value). */
  allowance: bigint
  /** The collector's windows, in seconds; provisional ones while an authorization is held. */
  windowStart: number | undefined
  windowSeconds: number | undefined
  cause: TransitionCause
}

/**
 * Records an owner's authorization in the ledger — `active` with the allowance, the windows and
 * the signed terms (a zero limit removes the monthly limit, no terms keep it) — whether it was
 * just sent, held for later, or found on-chain after a crash.
 */
export async function recordAuthorization(db: Db, p: RecordAuthorizationParameters) {
  const { terms } = p.auth
  return await authorizeSubscription(db, {
    orgId: p.orgId,
    subscriptionId: p.subscriptionId,
    owner: p.auth.owner,
    allowance: p.allowance,
    windowStart: p.windowStart,
    windowSeconds: p.windowSeconds,
    monthlyLimit: terms ? (terms.limit === 0n ? null : terms.limit) : undefined,
    termsNonce: terms?.nonce,
    cause: p.cause,
    actor: p.auth.owner,
  })
}
