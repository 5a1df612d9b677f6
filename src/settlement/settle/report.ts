import type { Hex } from 'viem'
import type { FailureReason } from '../context.js'

/** Why a pull failed: the collector's reason, or the payee's blacklisting it hides behind one. */
export type SettleFailure = FailureReason | 'payee_blacklisted' | 'seq_blocked'

/** What one settlement pass did. */
export type SettleReport = {
  recovered: number
  booked: number
  /** Auto top-ups booked (pulled with the charges). */
  topUps: number
  batches: number
  collected: number
  failed: Array<{ chargeId: string; reason: SettleFailure }>
  /** The token blacklisted the payee: nothing was sent (the operator's problem, see the log). */
  payeeBlacklisted: boolean
  /**
   * Subscriptions stuck behind a seq the ledger will never collect (written off, or lost
   * off-chain): their next charges wait, unsent, until an operator retires that seq on-chain.
   */
  blocked: Array<{ subscriptionId: string; seq: number; chargeId: string }>
  txHashes: Hex[]
  gasUsed: bigint
}

/**
 * Failures a later pull can clear: such charges are sent again while the subscription is
 * active — after the owner re-ups (allowance, balance...), once the earlier charge lands (a seq
 * gap), or in a window the collector takes (a pull that crossed a window boundary on its way:
 * the claim moves it to the previous window by the chain's clock).
 */
export const retryable: SettleFailure[] = [
  'payee_blacklisted',
  'allowance',
  'balance',
  'blacklisted',
  'paused',
  'token_reverted',
  'seq_gap',
  'window',
  'cap',
]
