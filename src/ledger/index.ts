// The ledger's public API: what the API, settlement, web and CLI call. Everything here takes
// the database first and one parameters object; money is bigint micro-credits.

export {
  authorizeSubscription,
  setSubscriptionState,
  startNewSubscription,
} from './authorizeSubscription.js'
export {
  bookCharges,
  type Charge,
  listCharges,
  listOpenCharges,
  markChargeCollected,
  markChargeFailed,
  markChargeSubmitted,
  refundCharge,
  writeOffCharge,
} from './charges.js'
export { type AccountSnapshot, type Decision, decide, headroom, windowIndexAt } from './decide.js'
export {
  BillingInactiveError,
  IdempotencyConflictError,
  InvalidTransitionError,
  NoBillingAccountError,
  SpendCapReachedError,
  UnknownActionError,
  UsageStateError,
} from './errors.js'
export { type BillingSummary, getBillingSummary } from './getBillingSummary.js'
export { type LedgerLine, listLedgerEntries } from './listLedgerEntries.js'
export {
  createMeter,
  type Meter,
  type MeterOutcome,
  type MeterParameters,
  type ReserveParameters,
} from './meter.js'
export {
  newSubscriptionId,
  openBillingAccount,
  openBillingAccountIn,
} from './openBillingAccount.js'
export {
  assertPriced,
  formatUsd,
  parseRateCard,
  type RateCard,
  rateCardSchema,
} from './rateCard.js'
export { type LedgerMismatch, reconcileLedger } from './reconcileLedger.js'
export { commitUsage, expireReservations, voidUsage } from './reservations.js'
export { type SubscriptionState, subscriptionStates, windDownActions } from './states.js'
export { transitionSubscription } from './transitionSubscription.js'
