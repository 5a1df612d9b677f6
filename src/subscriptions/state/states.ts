/** The subscription states (docs/design.md, Subscription states). */
export const subscriptionStates = [
  'pending',
  'active',
  'needs_reauth',
  'lapsed',
  'canceled',
] as const
export type SubscriptionState = (typeof subscriptionStates)[number]

/** Which state may follow which. `canceled` is terminal; everything else can be re-upped. */
export const allowedTransitions: Record<SubscriptionState, readonly SubscriptionState[]> = {
  pending: ['active', 'needs_reauth', 'canceled'],
  active: ['active', 'needs_reauth', 'lapsed', 'canceled'],
  needs_reauth: ['active', 'needs_reauth', 'lapsed', 'canceled'],
  lapsed: ['active', 'needs_reauth', 'lapsed', 'canceled'],
  canceled: [],
}

/** What caused a transition: recorded on every one. */
export type TransitionCause = 'owner' | 'chain' | 'settlement' | 'gate' | 'operator' | 'system'

/** Lease wind-down: never refused for a lease claimed before the org was blocked. */
export const windDownActions = new Set(['heartbeat', 'checkpoint', 'release_issue'])

/** Never refused: agents must never lose their keys to a billing state. */
export const neverRefusedActions = new Set(['mint_session_key'])
