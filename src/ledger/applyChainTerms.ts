import type { Db } from '../db/client.js'
import type { TransitionCause } from '../subscriptions/state/states.js'
import { transitionSubscription } from '../subscriptions/state/transitionSubscription.js'
import { lockAccount } from './accounts.js'

export type ApplyChainTermsParameters = {
  orgId: string
  subscriptionId: string
  /** The terms nonce the collector holds: applied only when newer than the ledger's. */
  termsNonce: number
  /** The collector's windows: start (unix seconds) and length. */
  windowStart: number
  windowSeconds: number
  /** The collector's per-window limit; `null` for none. */
  monthlyLimit: bigint | null
  /** Who set them: the chain (found there) by default, or the owner whose terms were just sent. */
  cause?: TransitionCause
  actor?: string
}

/**
 * Terms that reached the collector without this service — the owner may submit their own signed
 * terms, as anyone may — become the ledger's too, so the gate holds the limit and the windows the
 * collector holds and never books what it would refuse. Only newer terms (by nonce) apply, in the
 * account's lock; a new period restarts the windows, as it does on-chain.
 * Returns whether they applied, and whether they restarted the windows.
 *
 * @example
 * await applyChainTerms(db, { orgId, subscriptionId, termsNonce: 2, windowStart, windowSeconds: 3600, monthlyLimit: 10_000n })
 */
export async function applyChainTerms(
  db: Db,
  p: ApplyChainTermsParameters,
): Promise<{ applied: boolean; windowsRestarted: boolean }> {
  return await db.$client.begin(async (tx) => {
    const account = await lockAccount(tx, p.orgId)
    const none = { applied: false, windowsRestarted: false }
    if (account.subscriptionId !== p.subscriptionId) return none
    const [sub] = await tx<{ terms_nonce: number }[]>`
      select terms_nonce from subscriptions where id = ${p.subscriptionId}`
    if (!sub || p.termsNonce <= sub.terms_nonce) return none
    const windowStart = BigInt(p.windowStart) * 1_000_000n
    await transitionSubscription(tx, {
      subscriptionId: p.subscriptionId,
      to: account.state,
      cause: p.cause ?? 'chain',
      reason: p.cause === 'owner' ? 'terms_set' : 'terms_set_on_chain',
      ...(p.actor ? { actor: p.actor } : {}),
      authorization: {
        windowStart,
        windowSeconds: p.windowSeconds,
        monthlyLimit: p.monthlyLimit,
        termsNonce: p.termsNonce,
      },
    })
    return { applied: true, windowsRestarted: account.windowStart !== windowStart }
  })
}
