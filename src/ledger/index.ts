// The ledger's public API: what the API, settlement, web and CLI call. Everything here takes
// the database first and one parameters object; money is bigint micro-credits.

export {
  type AdjustBalanceParameters,
  type AdjustBalanceReturnType,
  adjustBalance,
} from './adjustBalance.js'
export { type ApplyChainTermsParameters, applyChainTerms } from './applyChainTerms.js'
export {
  authorizeSubscription,
  setSubscriptionState,
  startNewSubscription,
} from './authorizeSubscription.js'
export {
  type CarryUnchargedIntoWindowReturnType,
  carryUnchargedIntoWindow,
} from './carryUnchargedIntoWindow.js'
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
export {
  type AccruedAccount,
  type ListAccruedAccountsParameters,
  listAccruedAccounts,
} from './listAccruedAccounts.js'
export { type LedgerLine, listLedgerEntries } from './listLedgerEntries.js'
export { type LowerAllowanceResult, lowerAllowance } from './lowerAllowance.js'
export {
  createMeter,
  type Meter,
  type MeterOutcome,
  type MeterParameters,
  type ReserveParameters,
} from './meter.js'
export {
  defaultSignupCreditMicros,
  newSubscriptionId,
  openBillingAccount,
  openBillingAccountIn,
} from './openBillingAccount.js'
export {
  assertPriced,
  editAction,
  formatUsd,
  meteredActions,
  parseRateCard,
  priceOf,
  type RateCard,
  rateCardSchema,
  unitPrice,
} from './rateCard.js'
export { reconcileCharges } from './reconcileCharges.js'
export { type LedgerMismatch, reconcileLedger } from './reconcileLedger.js'
export { refreshLimitWaiting } from './refreshLimitWaiting.js'
export { commitUsage, expireReservations, voidUsage } from './reservations.js'
export { type SubscriptionState, subscriptionStates, windDownActions } from './states.js'
export { transitionSubscription } from './transitionSubscription.js'
